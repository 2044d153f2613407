import type { PresetEvent } from '../../src/reconcile/state.js';

/** One disruptive call as the events of its preset show it: from its start to its end event. */
export interface Interval {
  preset: string;
  vm: string;
  host: string;
  operation: string;
  start: number;
  end: number;
}

/** The disruption intervals of a preset's events (a start without its end yet runs to `now`). */
export function intervalsOf(preset: string, events: readonly PresetEvent[], now = Date.now()): Interval[] {
  const open = new Map<string, PresetEvent>();
  const out: Interval[] = [];
  const close = (start: PresetEvent, end: number) =>
    out.push({
      preset,
      vm: start.vm ?? '',
      host: String(start.data?.host ?? ''),
      operation: String(start.data?.operation ?? ''),
      start: Date.parse(start.at),
      end,
    });
  for (const e of events) {
    if (e.type === 'disruption_started' && e.vm) open.set(e.vm, e);
    if (e.type === 'disruption_ended' && e.vm) {
      const start = open.get(e.vm);
      if (start) close(start, Date.parse(e.at));
      open.delete(e.vm);
    }
  }
  for (const start of open.values()) close(start, now);
  return out;
}

/** Pairs of intervals on one host that overlap in time (touching ends do not). */
export function overlapsOnHost(intervals: readonly Interval[]): [Interval, Interval][] {
  const pairs: [Interval, Interval][] = [];
  for (const [i, a] of intervals.entries())
    for (const b of intervals.slice(i + 1))
      if (a.host !== '' && a.host === b.host && a.start < b.end && b.start < a.end) pairs.push([a, b]);
  return pairs;
}
