import { asShepherdError } from '../errors/shepherd-error.js';
import type { DemandSpec } from '../presets/demand-spec.js';
import type { Preset } from '../presets/preset.js';
import { type CountDecision, type DemandObservation, decideCount } from './demand.js';
import type { EventSink, PresetState } from './state.js';

// Phase desired count of a manage (and of `plan`): the query made here, the decision in demand.ts.

/** Reads the demand's value (the daemon gives Prometheus' instant query); throws when there is none. */
export type DemandQuery = (
  q: { url: string; query: string; timeoutMs: number },
  signal?: AbortSignal,
) => Promise<number>;

/** What a manage reports of its demand, for metrics: the value it read, or that the query failed. */
export interface DemandFigures {
  failed: boolean;
  value?: number;
}

export interface DesiredCount {
  /** The preset with `count` the count decided now (the same preset without a demand). */
  preset: Preset;
  decision?: CountDecision;
  figures?: DemandFigures;
  /** The query's error code, when it failed. */
  code?: string;
}

/** The demand's value now, or why there is none; null without a target. */
async function observeDemand(
  spec: DemandSpec,
  query: DemandQuery | undefined,
  signal: AbortSignal | undefined,
): Promise<Exclude<DemandObservation, { error: string }> | { error: string; code: string }> {
  if (!spec.target) return null;
  if (!query) return { error: 'no demand query is wired in this process', code: 'reconcile_demand_2001' };
  try {
    return { value: await query(spec.target.prometheus, signal) };
  } catch (err) {
    const e = asShepherdError(err, 'reconcile_demand_2001');
    return { error: e.detail ?? e.message, code: e.code };
  }
}

/** Phase desired count: queries the demand, decides the count, records what changed. */
export async function desiredCount(
  preset: Preset,
  state: PresetState,
  query: DemandQuery | undefined,
  now: () => number,
  record: EventSink,
  signal?: AbortSignal,
): Promise<DesiredCount> {
  if (!preset.demand) return { preset };
  const obs = await observeDemand(preset.demand, query, signal);
  const decision = decideCount(preset.demand, obs, state.demand, now());
  const code = obs && 'error' in obs ? obs.code : undefined;
  recordDemand(decision, code, record);
  return {
    preset: decision.count === preset.count ? preset : { ...preset, count: decision.count },
    decision,
    figures: obs && 'value' in obs ? { failed: false, value: obs.value } : { failed: obs !== null },
    ...(code ? { code } : {}),
  };
}

/** The events of a decision: the condition once when the query starts failing, its end, each change. */
export function recordDemand(d: CountDecision, code: string | undefined, record: EventSink): void {
  if (d.unavailable)
    record({
      type: 'demand_unavailable',
      reason: `count held at ${d.count}: ${d.unavailable}`,
      ...(code ? { code } : {}),
      data: { count: d.count },
    });
  if (d.recovered)
    record({ type: 'demand_recovered', reason: `the demand query answers again: ${d.explain}` });
  if (d.change) {
    const { from, to, value, reason } = d.change;
    record({
      type: 'count_changed',
      reason: `count ${from ?? 'none'} → ${to}: ${reason}`,
      data: { from: from ?? 'none', to, ...(value !== undefined ? { value } : {}) },
    });
  }
}

/** The state to save with the demand decided this manage (a preset without demand drops it). */
export function withDemand(next: PresetState, d: CountDecision | undefined): PresetState {
  if (d) return { ...next, demand: d.state };
  if (!next.demand) return next;
  const { demand: _gone, ...rest } = next;
  return rest;
}

/** The preset with the count its last manage decided (a task's budget between manages). */
export function withStoredCount(preset: Preset, state: PresetState): Preset {
  const count = state.demand?.count;
  return preset.demand && count !== undefined && count !== preset.count ? { ...preset, count } : preset;
}
