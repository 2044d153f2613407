import type { Logger } from 'pino';
import type { SharedParts } from './dependencies.js';
import type { Generation } from './generation.js';
import type { OrphanTracker } from './orphans.js';
import type { PresetLoggers } from './preset-loggers.js';

/**
 * What the daemon's modules (operations, cycles, refreshes) share: this instance, what outlives a
 * reload, and the generation in force, read anew at each use since a reload swaps it.
 */
export interface DaemonParts extends SharedParts {
  readonly logger: Logger;
  readonly loggers: PresetLoggers;
  readonly orphanTracker: OrphanTracker;
  /** The generation in force. */
  gen(): Generation;
  /** Manages the preset at the next cycle, whatever its interval. */
  markDue(name: string): void;
}
