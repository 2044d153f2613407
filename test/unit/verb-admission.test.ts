import { describe, expect, it } from 'vitest';
import type { InPlaceWork } from '../../src/reconcile/in-place.js';
import { emptyState, type PresetEvent } from '../../src/reconcile/state.js';
import {
  takesOut,
  waitingState,
  withActiveWaits,
  withoutWaiting,
} from '../../src/reconcile/verb-admission.js';

const update = (disruptive: boolean) => ({ kind: 'update', disruptive, steps: [] }) as unknown as InPlaceWork;

describe('takesOut', () => {
  it.each([
    ['stop of an active VM', 'stop', 'active', null, true],
    ['reboot of an active VM', 'reboot', 'active', null, true],
    ['start (brings a VM back)', 'start', 'quiesced', null, false],
    ['stop of a VM already out', 'stop', 'quiesced', null, false],
    ['a disruptive update', 'update', 'active', update(true), true],
    ['an update of security groups only', 'update', 'active', update(false), false],
    ['an update with nothing to do', 'update', 'active', null, false],
    ['no cloud operation', null, 'active', null, false],
  ] as const)('%s', (_what, op, from, work, out) => {
    expect(takesOut(op, from, work)).toBe(out);
  });
});

describe('the waiting verb in the preset state', () => {
  const event = (e: Omit<PresetEvent, 'token' | 'instance'>): PresetEvent => ({
    ...e,
    token: 7,
    instance: 'a',
  });
  const wait = { verb: 'restart', by: 'ops', until: 5000, reason: 'waiting for disruption budget: 1 of 1' };

  it('is recorded with one verb_waiting event when it starts waiting, keeping its start on a new reason', () => {
    const first = waitingState(emptyState(), 'vm-1', wait, 1000, event, 10);
    expect(first.waiting?.['vm-1']).toEqual({ ...wait, since: 1000 });
    expect(first.events).toEqual([expect.objectContaining({ type: 'verb_waiting', vm: 'vm-1', token: 7 })]);
    const again = waitingState(
      first,
      'vm-1',
      { ...wait, reason: 'waiting for disruption budget: 2 of 1' },
      2000,
      event,
      10,
    );
    expect(again.waiting?.['vm-1']?.since).toBe(1000);
    expect(again.events).toHaveLength(1);
  });

  it('goes when the verb ran, leaving other waiting verbs', () => {
    const two = waitingState(
      waitingState(emptyState(), 'vm-1', wait, 1, event, 10),
      'vm-2',
      wait,
      1,
      event,
      10,
    );
    expect(Object.keys(withoutWaiting(two, 'vm-1').waiting ?? {})).toEqual(['vm-2']);
    expect(withoutWaiting(withoutWaiting(two, 'vm-1'), 'vm-2').waiting).toBeUndefined();
    const none = emptyState();
    expect(withoutWaiting(none, 'vm-1')).toBe(none);
  });
});

describe('withActiveWaits', () => {
  const wait = {
    verb: 'scrub',
    by: 'ops',
    until: 5000,
    since: 1000,
    reason: 'waiting for disruption budget',
  };
  const state = { ...emptyState(), waiting: { 'vm-1': wait, 'vm-2': wait } };

  it('drops the waits whose task is no longer active, keeping the others', () => {
    expect(withActiveWaits(state, new Set(['vm-2'])).waiting).toEqual({ 'vm-2': wait });
  });
  it('leaves no waiting key when none is active', () => {
    expect(withActiveWaits(state, new Set())).not.toHaveProperty('waiting');
  });
  it('returns the same state when every wait is active or there is none', () => {
    expect(withActiveWaits(state, new Set(['vm-1', 'vm-2']))).toBe(state);
    const none = emptyState();
    expect(withActiveWaits(none, new Set())).toBe(none);
  });
});
