import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../../src/errors/shepherd-error.js';
import type { Acts } from '../../src/reconcile/act.js';
import { type NextStateInput, nextState } from '../../src/reconcile/next-state.js';
import { decide } from '../../src/reconcile/observe.js';
import { emptyState, type PresetEvent, type PresetState } from '../../src/reconcile/state.js';
import { preset, T0, vm } from '../helpers/fixtures.js';

const p = preset({ count: 2, healthcheck: undefined });
const running = [
  vm({ metadata: { vmshepherd_preset: 'web' } }),
  vm({ metadata: { vmshepherd_preset: 'web' } }),
];

/** The next state of a manage that listed `vms` from `state` and did `acts`. */
function next(acts: Acts, state: PresetState = emptyState(), extra: Partial<NextStateInput> = {}) {
  const decision = decide(p, running, new Map(), state, T0, 10);
  return nextState({
    preset: p,
    state,
    decision,
    acts,
    listed: running,
    events: [],
    rollout: undefined,
    backoff: undefined,
    capacity: undefined,
    health: decision.health,
    started: T0 - 500,
    now: T0,
    instanceId: 'a',
    eventsKept: 3,
    ...extra,
  });
}

const event = (n: number): PresetEvent => ({
  at: new Date(T0).toISOString(),
  type: 'created',
  reason: `e${n}`,
  token: 1,
  instance: 'a',
});

describe('nextState', () => {
  it('stamps who managed, when, and from which revision', () => {
    const { next: s, failures } = next({});
    expect(s).toMatchObject({ lastManagedAt: T0 - 500, lastSavedAt: T0, lastManagedBy: 'a', revision: 'r1' });
    expect(s.vms.map((v) => v.id)).toEqual(running.map((v) => v.id));
    expect(failures).toEqual([]);
  });

  it.each([
    ['no events keeps the old list itself', [], 2, 2],
    ['new events are appended', [event(9)], 2, 3],
    ['and only the newest events_kept stay', [event(8), event(9)], 3, 3],
  ])('events: %s', (_what, events, before, after) => {
    const state = { ...emptyState(), events: Array.from({ length: before }, (_, i) => event(i)) };
    const { next: s } = next({}, state, { events });
    expect(s.events).toHaveLength(after);
    if (events.length === 0) expect(s.events).toBe(state.events);
    else expect(s.events.at(-1)).toBe(events.at(-1));
  });

  it('reports every failed action, creates and terminations alike', () => {
    const a = new ShepherdError('dummy_call_2001', 'create');
    const b = new ShepherdError('dummy_call_2001', 'terminate');
    const { failures } = next({
      creates: { created: [], failed: [a], full: [], placed: [] },
      terminations: { done: [], failed: [{ termination: { vmId: running[0]!.id } as never, error: b }] },
    });
    expect(failures).toEqual([b, a]);
  });

  it('remembers a VM it deleted as deleting while the cloud still lists it', () => {
    const gone = { vmId: running[0]!.id } as never;
    const { next: s } = next({ terminations: { done: [gone], failed: [] } });
    expect(s.deleting).toEqual({ [running[0]!.id]: T0 });
    expect(next({}).next).not.toHaveProperty('deleting');
  });

  it('keeps pause, and drops lifecycle records and verb waits of VMs that are gone', () => {
    const paused = { by: 'ops', at: T0 - 10 };
    const wait = { verb: 'scrub', by: 'ops', until: T0 + 60_000, since: T0 - 1000, reason: 'budget' };
    const state: PresetState = {
      ...emptyState(),
      paused: paused as never,
      lifecycle: {
        [running[0]!.id]: { state: 'quiesced', since: T0, by: 'ops' },
        gone: { state: 'quiesced', since: T0, by: 'ops' },
      },
      waiting: { [running[1]!.id]: wait, gone: wait },
    };
    const { next: s } = next({}, state);
    expect(s.paused).toEqual(paused);
    expect(Object.keys(s.lifecycle ?? {})).toEqual([running[0]!.id]);
    expect(Object.keys(s.waiting ?? {})).toEqual([running[1]!.id]);
  });

  it('saves a backoff and capacity skips only when there are some', () => {
    expect(next({}, emptyState(), { backoff: {} }).next).not.toHaveProperty('backoff');
    const backoff = { 'm1.small': { failures: 1, until: T0 + 10_000, reason: 'quota', code: 'x' } } as never;
    expect(next({}, emptyState(), { backoff }).next.backoff).toBe(backoff);
  });
});
