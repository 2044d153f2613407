import type { Preset } from '../presets/preset.js';
import type { RefreshReport } from '../presets/preset-catalog.js';
import type { DaemonParts } from './daemon-parts.js';
import { releaseGroups } from './release-groups.js';

/**
 * Keeps the catalog of the generation in force fresh: refreshes on its own interval (and when asked),
 * one at a time, then logs what changed and what is broken, and releases server groups no longer used.
 */
export class PresetRefresh {
  /** When the latest preset refresh started (performance.now()). */
  private startedAt = Number.NEGATIVE_INFINITY;
  private refreshing: Promise<RefreshReport> | undefined;
  /** The release of unused server groups after a refresh (one at a time; see releaseGroups). */
  private releasing: Promise<void> | undefined;
  private readonly reported = new Set<string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly parts: DaemonParts) {}

  /** Re-reads the preset store (cheap when nothing changed) and logs what changed and what is broken. */
  refresh(): Promise<RefreshReport> {
    const before = this.presets();
    if (!this.refreshing) {
      this.startedAt = performance.now();
      this.refreshing = this.parts
        .gen()
        .catalog.refresh()
        .finally(() => {
          this.refreshing = undefined;
        });
    }
    return this.refreshing.then((report) => this.noted(before, report));
  }

  /**
   * Waits for a refresh of the presets that started after `since` (performance.now()), starting one if
   * needed: one started earlier (in flight before a pause, say) may hold what the store had before a change
   * the caller has seen the effects of. Manages that saw the change at about the same time share one.
   */
  async since(since: number): Promise<void> {
    if (this.refreshing && this.startedAt >= since) {
      await this.refreshing.catch(() => undefined);
      return;
    }
    await this.refreshing?.catch(() => undefined);
    if (this.refreshing && this.startedAt >= since) await this.refreshing.catch(() => undefined);
    else if (this.startedAt < since) await this.refresh();
  }

  /** What a refresh changed, from the presets `before` it: logged, counted, groups released. */
  noted(before: Preset[], report: RefreshReport): RefreshReport {
    const { parts } = this;
    for (const p of before) parts.knownRevisions.add(p.name, p.source.revision);
    parts.orphanTracker.note(before, report, parts.clock.now(), parts.logger);
    this.log(report);
    if (!parts.stopping.aborted)
      this.releasing ??= releaseGroups(
        this.presets(),
        (p) => parts.gen().pool.account(p),
        () => parts.gen().pool.allAccounts(),
        parts.logger,
        parts.stopping,
      ).finally(() => {
        this.releasing = undefined;
      });
    return report;
  }

  /** Refreshes every `manage.refresh_interval` from now on. */
  startTimer(): void {
    this.timer = setTimeout(() => {
      void this.refresh()
        .catch((err) => this.parts.logger.error({ err, code: 'preset_load_2001' }, 'preset refresh failed'))
        .finally(() => {
          if (this.timer !== undefined && !this.parts.stopping.aborted) this.startTimer();
        });
    }, this.parts.gen().config.manage.refresh_interval * 1000);
    this.timer.unref();
  }

  /** Stops the interval; true when it was running. */
  stopTimer(): boolean {
    const wasRunning = this.timer !== undefined;
    clearTimeout(this.timer);
    this.timer = undefined;
    return wasRunning;
  }

  /** Waits for the release of server groups in flight. */
  async released(): Promise<void> {
    await this.releasing;
  }

  private presets(): Preset[] {
    return this.parts.gen().catalog.presets();
  }

  /** Logs preset changes, and each problem once (not on every refresh while it persists). */
  private log(report: RefreshReport): void {
    const { metrics, logger } = this.parts;
    metrics.presets.set(this.presets().length);
    metrics.presetProblems.reset();
    for (const p of report.problems) metrics.presetProblems.inc({ code: p.code });
    for (const name of report.removed) {
      metrics.forgetPreset(name);
      this.parts.loggers.forget(name);
      this.parts.fleetHealth.note(name, undefined);
    }
    if (report.added.length || report.changed.length || report.removed.length) {
      logger.info(
        {
          added: report.added.length,
          changed: report.changed,
          removed: report.removed,
          compiled: report.compiled,
        },
        'presets loaded',
      );
      for (const name of [...report.changed, ...report.removed]) this.parts.markDue(name);
    }
    const current = new Set<string>();
    for (const p of report.problems) {
      current.add(p.message);
      if (this.reported.has(p.message)) continue;
      const level = p.isWarning ? 'warn' : 'error';
      logger[level]({ code: p.code, at: p.at }, p.message);
    }
    this.reported.clear();
    for (const m of current) this.reported.add(m);
  }
}
