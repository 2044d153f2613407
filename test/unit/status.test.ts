import { describe, expect, it } from 'vitest';
import { classify } from '../../src/reconcile/classify.js';
import { plan } from '../../src/reconcile/plan.js';
import { presetStatus, sameStatusOr, snapshotAfter } from '../../src/reconcile/status.js';
import { preset, T0, vm } from '../helpers/fixtures.js';

describe('sameStatusOr(presetStatus)', () => {
  const p = preset({ count: 2, healthcheck: null });
  const statusOf = (vms: ReturnType<typeof vm>[], previous?: ReturnType<typeof presetStatus>) => {
    const classified = classify(p, vms, new Map(), T0);
    const planned = plan(p, classified, { now: T0, capabilities: new Set() });
    return sameStatusOr(
      previous,
      presetStatus(p, planned, snapshotAfter(classified, undefined, undefined), [], false),
    );
  };

  it('hands back the previous status when nothing in it changed, a new one when anything did', () => {
    const two = [vm({ id: 'a' }), vm({ id: 'b' })];
    const first = statusOf(two);
    expect(first).toMatchObject({ phase: 'converged', counts: { running: 2 } });
    expect(statusOf(two, first)).toBe(first);
    const one = statusOf([vm({ id: 'a' })], first);
    expect(one).not.toBe(first);
    expect(one).toMatchObject({ phase: 'converging', counts: { running: 1 } });
    const pending = statusOf([vm({ id: 'a' }), vm({ id: 'c', state: 'pending', ageSeconds: 1 })], first);
    expect(pending).not.toBe(first);
    expect(pending.counts).toEqual({ running: 1, pending: 1 });
  });
});
