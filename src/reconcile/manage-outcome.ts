import type { ShepherdError } from '../errors/shepherd-error.js';
import type { DemandFigures } from './demand-phase.js';
import type { LockLevel } from './lock-keys.js';
import type { PresetState } from './state.js';

/** What one manage of one preset did: for the scheduler, the tasks it ends, metrics and the API. */
export type ManageResult = 'managed' | 'not_due' | 'leased_elsewhere' | 'failed';

export interface ManageOutcome {
  preset: string;
  result: ManageResult;
  created: number;
  terminated: number;
  failedActions: number;
  error?: ShepherdError;
  /** Epoch ms of the last completed manage (for the scheduler's due check). */
  lastManagedAt: number | null;
  state?: PresetState;
  durationMs: number;
  /** The lease this manage ran under. */
  lease?: { token: number; takenOver: boolean };
  /** Set when the failure came from the runtime store (lease, load or save), not the cloud. */
  runtimeFailure?: boolean;
  /** Disruptive calls deferred by this manage, by the lock level that had no free slot. */
  lockWaits?: Partial<Record<LockLevel, number>>;
  /** A count that follows demand: the value this manage read, or that its query failed. */
  demand?: DemandFigures;
}
