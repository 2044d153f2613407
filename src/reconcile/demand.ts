import { Cron } from 'croner';
import type { DemandSpec, DemandWindow } from '../presets/demand-spec.js';

// The count of a preset whose `count:` follows demand (docs/demand.md), decided from values: the metric's
// value (or why there is none), the state the last manage saved and the time. Pure: the query is made by
// demand-phase.ts, the events recorded and the state saved by the manage.

/** What the runtime store keeps of a preset's demand, so another instance or a restart continues it. */
export interface DemandState {
  /** The desired count in force. */
  count: number;
  /** The last value the query returned, and when (epoch ms). */
  value?: number;
  valueAt?: number;
  /** When the count last changed. */
  changedAt?: number;
  /** Since when the demand asks for fewer VMs than `count` (the cooldown runs from here). */
  belowSince?: number;
  /** The query fails since `since` (kept until it answers again: the condition is reported once). */
  unavailable?: { error: string; since: number };
}

/** The query's answer this manage: a value, why there is none, or null when the preset has no target. */
export type DemandObservation = { value: number } | { error: string } | null;

/** The bounds in force now: `count.min`/`max`, or those of the open schedule windows. */
export interface DemandBounds {
  min: number;
  max: number;
  /** The open windows, as "cron (time zone)". */
  windows: string[];
}

export interface CountChange {
  from: number | null;
  to: number;
  value?: number;
  reason: string;
}

export interface CountDecision {
  count: number;
  state: DemandState;
  bounds: DemandBounds;
  /** What the demand asks for (clamped) before the cooldown and the step. */
  wanted: number;
  /** One line for `plan` and the status: why the count is what it is. */
  explain: string;
  change?: CountChange;
  /** The query fails and did not before: the condition to report (once). */
  unavailable?: string;
  /** The query answers again after failing. */
  recovered?: boolean;
  /** Milliseconds before a wanted scale-in may happen (the cooldown). */
  waitMs?: number;
}

/** True while a window is open: one of its cron's starts lies in (now - duration, now]. */
export function windowOpen(w: DemandWindow, now: number): boolean {
  const next = new Cron(w.cron, { timezone: w.timezone, paused: true }).nextRun(new Date(now - w.durationMs));
  return next !== null && next.getTime() <= now;
}

/** The bounds now: several open windows give the highest of their mins and of their maxes. */
export function boundsAt(spec: DemandSpec, now: number): DemandBounds {
  const open = spec.schedule.filter((w) => windowOpen(w, now));
  if (open.length === 0) return { min: spec.min, max: spec.max, windows: [] };
  return {
    min: Math.max(...open.map((w) => w.min)),
    max: Math.max(...open.map((w) => w.max)),
    windows: open.map((w) => `${w.cron} (${w.timezone})`),
  };
}

const clamp = (n: number, b: DemandBounds) => Math.min(b.max, Math.max(b.min, n));

/** What the demand asks for now, and why, before the cooldown and the step. */
function wantedOf(
  spec: DemandSpec,
  obs: DemandObservation,
  held: number | undefined,
  b: DemandBounds,
): { wanted: number; why: string; value?: number } {
  const range = `bounds ${b.min}..${b.max}${b.windows.length ? ` (window ${b.windows.join(', ')} open)` : ''}`;
  const clamped = (raw: number, what: string) => {
    const wanted = clamp(raw, b);
    return { wanted, why: `${what}${wanted !== raw ? `, clamped to ${wanted}` : ''}; ${range}` };
  };
  if (obs === null) return { wanted: b.min, why: `no target: min; ${range}` };
  if ('value' in obs) {
    const perVm = spec.target?.perVm ?? 1;
    // A float quotient like 3.0000000001 must not ask for a fourth VM.
    const raw = Math.max(0, Math.ceil(obs.value / perVm - 1e-9));
    return { ...clamped(raw, `value ${obs.value} / per_vm ${perVm} = ${raw}`), value: obs.value };
  }
  if (held === undefined)
    return { wanted: b.min, why: `query failed (${obs.error}) and no count was decided yet: min; ${range}` };
  return clamped(held, `query failed (${obs.error}): holding ${held}`);
}

/**
 * The desired count now. Scale-out is immediate; a scale-in waits until the demand has asked for fewer
 * VMs for `cooldown` (and `cooldown` after the last change), then removes at most `step`. A failed query
 * holds the last count: it never falls to min by accident.
 */
export function decideCount(
  spec: DemandSpec,
  obs: DemandObservation,
  last: DemandState | undefined,
  now: number,
): CountDecision {
  const bounds = boundsAt(spec, now);
  const held = last?.count;
  const w = wantedOf(spec, obs, held, bounds);
  const failed = obs !== null && 'error' in obs ? obs.error : undefined;
  const base: DemandState = {
    count: held ?? w.wanted,
    ...(w.value !== undefined
      ? { value: w.value, valueAt: now }
      : last?.value !== undefined
        ? { value: last.value, ...(last.valueAt !== undefined ? { valueAt: last.valueAt } : {}) }
        : {}),
    ...(last?.changedAt !== undefined ? { changedAt: last.changedAt } : {}),
    ...(failed !== undefined ? { unavailable: last?.unavailable ?? { error: failed, since: now } } : {}),
  };
  const report = {
    bounds,
    wanted: w.wanted,
    ...(failed !== undefined && !last?.unavailable ? { unavailable: failed } : {}),
    ...(failed === undefined && last?.unavailable ? { recovered: true } : {}),
  };
  const changed = (to: number, state: DemandState, why: string): CountDecision => ({
    ...report,
    count: to,
    state: { ...state, count: to, changedAt: now },
    explain: `count ${to}: ${w.why}${why}`,
    change: {
      from: held ?? null,
      to,
      ...(w.value !== undefined ? { value: w.value } : {}),
      reason: w.why + why,
    },
  });
  if (held === undefined) return changed(w.wanted, base, '');
  if (w.wanted >= held) {
    const state = { ...base };
    if (w.wanted === held) return { ...report, count: held, state, explain: `count ${held}: ${w.why}` };
    return changed(w.wanted, state, '');
  }
  const belowSince = last?.belowSince ?? now;
  const waitMs = Math.max(belowSince, last?.changedAt ?? belowSince) + spec.cooldownMs - now;
  if (waitMs > 0)
    return {
      ...report,
      count: held,
      state: { ...base, belowSince },
      waitMs,
      explain: `count ${held}, wants ${w.wanted} (${w.why}): scale-in waits the cooldown, ${Math.ceil(waitMs / 1000)} s left`,
    };
  const to = Math.max(w.wanted, held - spec.step);
  const state = to > w.wanted ? { ...base, belowSince } : base;
  return changed(to, state, to > w.wanted ? `; step ${spec.step} toward ${w.wanted}` : '');
}
