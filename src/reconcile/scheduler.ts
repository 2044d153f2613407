import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import { inSpan } from '../observability/tracing.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import { isDue } from './due.js';
import type { ManageOutcome } from './manage-outcome.js';

/** What one cycle did, logged as one line. */
export interface CycleSummary {
  cycle: number;
  presets: number;
  managed: number;
  notDue: number;
  leasedElsewhere: number;
  /** Still being managed from an earlier cycle: not started again. */
  busy: number;
  failed: number;
  created: number;
  terminated: number;
  failedActions: number;
  durationMs: number;
}

export interface CycleContext {
  id: number;
  startedAt: number;
  /** Per-cycle memo (e.g. one listing per cloud account). */
  shared: Map<string, unknown>;
  /** Presets with queued or running tasks: their manages run those tasks. */
  urgent?: ReadonlySet<string>;
  /** True when `urgent` comes from a task listing that answered: the other presets have no tasks. */
  tasksListed?: boolean;
}

export interface SchedulerOptions {
  concurrency: number;
  intervalMs: () => number;
  clock: Clock;
  logger: Logger;
  presets: () => readonly Preset[];
  manage: (preset: Preset, cycle: CycleContext) => Promise<ManageOutcome>;
  onCycle?: (summary: CycleSummary) => void;
  /**
   * Presets to manage this cycle whatever their interval (queued tasks), asked once per cycle; undefined
   * when the tasks could not be listed.
   */
  urgent?: () => Promise<ReadonlySet<string> | undefined>;
}

/**
 * Starts a cycle every `worker_interval`: each due preset that is not still being managed is queued in a
 * bounded pool, so a slow preset delays only itself. A cycle does not wait for the manages of the one
 * before, only until that one has handed all its presets to the pool: a cycle started while the one before
 * still fed the pool would take the presets just managed (due again at once with `manage_interval: 0`)
 * and share the pool with them, so the presets last in order waited for minutes (docs/performance.md).
 */
export class Scheduler {
  private readonly pool: PQueue;
  private readonly inFlight = new Set<string>();
  /** Epoch ms of each preset's last manage as last seen: it is worth a look once due (see isDue). */
  private readonly lastSeen = new Map<string, number>();
  private cycle = 0;
  private cyclesRunning = 0;
  private stopped = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;
  private readonly running = new Set<Promise<CycleSummary>>();
  /** Settles when the latest cycle has handed all its presets to the pool. */
  private fed: Promise<void> = Promise.resolve();

  constructor(private readonly o: SchedulerOptions) {
    this.pool = new PQueue({ concurrency: o.concurrency });
  }

  /** Runs cycles until stop(). */
  start(): void {
    this.loop ??= (async () => {
      while (!this.stopped) {
        const cycle = this.runCycle();
        this.running.add(cycle);
        void cycle.finally(() => this.running.delete(cycle));
        await new Promise<void>((resolve) => {
          // ±20% jitter: instances sharing a runtime store would otherwise keep fixed cycle phases, and the
          // one whose cycle comes first after presets fall due would take most of them every time.
          const timer = setTimeout(resolve, this.o.intervalMs() * (0.8 + 0.4 * Math.random()));
          this.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        await this.fed;
      }
    })();
  }

  /** Stops starting cycles and waits for the manages in flight to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    // Queued manages see `stopped` and return at once; clearing the queue would leave their cycles waiting forever.
    await Promise.allSettled([...this.running]);
    await this.pool.onIdle();
  }

  /** Forgets when a preset was last managed, so the next cycle looks at it (manage now, config reload). */
  markDue(name?: string): void {
    if (name === undefined) this.lastSeen.clear();
    else this.lastSeen.delete(name);
  }

  /** True while a cycle runs or a preset is being managed (a cycle's, or an earlier one's still). */
  get busy(): boolean {
    return this.cyclesRunning > 0 || this.inFlight.size > 0;
  }

  isManaging(name: string): boolean {
    return this.inFlight.has(name);
  }

  runCycle(): Promise<CycleSummary> {
    const id = ++this.cycle;
    this.cyclesRunning++;
    let fed = () => {};
    this.fed = new Promise<void>((resolve) => {
      fed = resolve;
    });
    return inSpan('vmshepherd.cycle', { 'vmshepherd.cycle': id }, async (span) => {
      const summary = await this.cycleBody(id, fed);
      span.setAttributes({
        'vmshepherd.presets': summary.presets,
        'vmshepherd.managed': summary.managed,
        'vmshepherd.failed': summary.failed,
      });
      return summary;
    }).finally(() => {
      fed(); // also when the cycle failed while feeding: the next one must not wait for it forever
      this.cyclesRunning--;
    });
  }

  /** One cycle; `fed` is called once all its presets are in the pool (or it stopped feeding). */
  private async cycleBody(id: number, fed: () => void): Promise<CycleSummary> {
    const startedAt = this.o.clock.now();
    const listed = await this.o.urgent?.();
    const urgent = listed ?? new Set<string>();
    const ctx: CycleContext = { id, startedAt, shared: new Map(), urgent, tasksListed: listed !== undefined };
    const presets = this.o.presets();
    const summary: CycleSummary = {
      cycle: id,
      presets: presets.length,
      managed: 0,
      notDue: 0,
      leasedElsewhere: 0,
      busy: 0,
      failed: 0,
      created: 0,
      terminated: 0,
      failedActions: 0,
      durationMs: 0,
    };
    const due: Preset[] = [];
    for (const preset of presets) {
      if (this.inFlight.has(preset.name)) {
        summary.busy++;
        continue;
      }
      const last = this.lastSeen.get(preset.name);
      if (
        last !== undefined &&
        !isDue(last, preset.manageIntervalMs, startedAt) &&
        !urgent.has(preset.name)
      ) {
        summary.notDue++;
        continue;
      }
      this.inFlight.add(preset.name);
      due.push(preset);
    }
    const launched: Promise<void>[] = [];
    for (const [i, preset] of due.entries()) {
      // Fed as the pool drains, not all at once: queued together, 10,000 manages' closures and promises
      // lived for the whole cycle and were promoted to the old generation (docs/performance.md).
      if (this.pool.size >= this.o.concurrency) await this.pool.onSizeLessThan(this.o.concurrency);
      if (this.stopped) {
        for (const rest of due.slice(i)) this.inFlight.delete(rest.name);
        break;
      }
      launched.push(this.launch(preset, ctx, summary));
    }
    fed();
    await Promise.all(launched);
    summary.durationMs = this.o.clock.now() - startedAt;
    this.o.onCycle?.(summary);
    return summary;
  }

  private launch(preset: Preset, ctx: CycleContext, summary: CycleSummary): Promise<void> {
    return this.pool
      .add(async () => {
        // With drivers that answer from memory (simulated cloud, in-memory runtime) a whole cycle would
        // otherwise run as one chain of microtasks and hold the event loop (and the API) for seconds.
        await yieldToEventLoop();
        return this.stopped ? undefined : this.o.manage(preset, ctx);
      })
      .then((outcome) => {
        if (outcome) this.count(summary, preset, outcome);
      })
      .catch((err) => {
        summary.failed++;
        this.o.logger.error({ preset: preset.name, err, code: 'reconcile_manage_1001' }, 'manage crashed');
      })
      .finally(() => this.inFlight.delete(preset.name));
  }

  private count(summary: CycleSummary, preset: Preset, outcome: ManageOutcome): void {
    if (outcome.lastManagedAt !== null) this.lastSeen.set(preset.name, outcome.lastManagedAt);
    switch (outcome.result) {
      case 'managed':
        summary.managed++;
        break;
      case 'not_due':
        summary.notDue++;
        break;
      case 'leased_elsewhere':
        summary.leasedElsewhere++;
        break;
      case 'failed':
        summary.failed++;
        break;
    }
    summary.created += outcome.created;
    summary.terminated += outcome.terminated;
    summary.failedActions += outcome.failedActions;
  }
}
