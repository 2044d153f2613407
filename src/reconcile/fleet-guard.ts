import type { CountOrPercent } from '../config/preset-schema.js';
import { resolveCountOrPercent } from '../presets/preset.js';

/** Health-checked VMs and how many of them fail their checks now. */
export interface FleetCounts {
  checked: number;
  failing: number;
}

export interface FleetGuardVerdict {
  /** More than `max_unhealthy_fleet` of this instance's checked VMs fail at once: no health termination. */
  active: boolean;
  failing: number;
  checked: number;
  /** Most VMs that may fail at once across the fleet. */
  limit: number;
}

/** Fewer checked VMs than this say nothing about correlated failure: the fleet guard stays off. */
export const FLEET_GUARD_MIN_CHECKED = 5;

/**
 * Correlated failure seen fleet-wide (pure): when too many of the VMs this instance checks fail at once,
 * the cause is more likely the network, the checks or a shared dependency than the VMs themselves.
 */
export function fleetGuard(
  others: FleetCounts,
  own: FleetCounts,
  maxUnhealthy: CountOrPercent,
): FleetGuardVerdict {
  const checked = others.checked + own.checked;
  const failing = others.failing + own.failing;
  const limit = resolveCountOrPercent(maxUnhealthy, checked);
  return { active: checked >= FLEET_GUARD_MIN_CHECKED && failing > limit, failing, checked, limit };
}

/**
 * The health of every preset's VMs as this instance last saw it, summed: each manage notes its preset's
 * counts (kept incrementally, so reading the others' sum costs nothing per manage).
 */
export class FleetHealth {
  private readonly byPreset = new Map<string, FleetCounts>();
  private readonly sum: FleetCounts = { checked: 0, failing: 0 };
  /** The snapshot list each preset's counts were taken from: a steady manage saves the same list again. */
  private readonly counted = new Map<string, readonly unknown[]>();

  /** Counts a preset's saved snapshots, unless they are the very list counted last time. */
  noteVms(preset: string, vms: Parameters<typeof fleetCountsOf>[0]): void {
    if (this.counted.get(preset) === vms) return;
    this.counted.set(preset, vms);
    this.note(preset, fleetCountsOf(vms));
  }

  note(preset: string, counts: FleetCounts | undefined): void {
    const old = this.byPreset.get(preset);
    if (old) {
      this.sum.checked -= old.checked;
      this.sum.failing -= old.failing;
    }
    if (!counts) {
      this.byPreset.delete(preset);
      this.counted.delete(preset);
      return;
    }
    this.byPreset.set(preset, counts);
    this.sum.checked += counts.checked;
    this.sum.failing += counts.failing;
  }

  /** Every preset but `preset`. */
  others(preset: string): FleetCounts {
    const own = this.byPreset.get(preset);
    return {
      checked: this.sum.checked - (own?.checked ?? 0),
      failing: this.sum.failing - (own?.failing ?? 0),
    };
  }

  totals(): FleetCounts {
    return { ...this.sum };
  }

  /** Forgets presets no longer configured. */
  keepOnly(presets: ReadonlySet<string>): void {
    for (const name of [...this.byPreset.keys()]) if (!presets.has(name)) this.note(name, undefined);
  }
}

/** Checked and failing VMs among saved snapshots (their health as the last manage left it). */
export function fleetCountsOf(
  vms: readonly { health?: { verdict: unknown; failures: number } }[],
): FleetCounts {
  let checked = 0;
  let failing = 0;
  for (const v of vms) {
    if (!v.health || v.health.verdict === null) continue;
    checked++;
    if (v.health.failures > 0) failing++;
  }
  return { checked, failing };
}
