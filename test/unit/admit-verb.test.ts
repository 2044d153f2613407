import { describe, expect, it } from 'vitest';
import { admitVerb } from '../../src/reconcile/admit-verb.js';
import type { DisruptionBudget } from '../../src/reconcile/disruption-budget.js';

const budget = (count: number, ready: number, limit: number, holders = 0): DisruptionBudget => ({
  count,
  ready,
  limit,
  unavailable: Math.max(0, count - ready),
  room: Math.max(0, ready - (count - limit)),
  holders: Array.from({ length: holders }, (_, i) => ({ vm: `vm-${i}`, user: 'rollout', what: 'replace' })),
  missing: Math.max(0, count - ready) - holders,
});

const ROWS: [string, boolean, boolean, DisruptionBudget, boolean][] = [
  ['a verb that takes nothing out runs at once', false, true, budget(3, 1, 1, 2), true],
  ['a verb on a VM that is not ready runs at once', true, false, budget(3, 1, 1, 2), true],
  ['room left: runs', true, true, budget(3, 3, 1), true],
  ['the budget spent by a rollout: waits', true, true, budget(3, 2, 1, 1), false],
  ['over the budget: waits', true, true, budget(3, 1, 1, 2), false],
  ['max_unavailable 0, nothing out: one at a time', true, true, budget(3, 3, 0), true],
  ['max_unavailable 0, one out already: waits', true, true, budget(3, 2, 0, 1), false],
  ['a ready surge VM makes room', true, true, budget(3, 4, 0), true],
  ['max_unavailable 2, one out: runs', true, true, budget(5, 4, 2, 1), true],
];

describe('admitVerb', () => {
  it.each(ROWS)('%s', (_name, takesOut, ready, b, admitted) => {
    const a = admitVerb(takesOut, ready, b);
    expect(a.admit).toBe(admitted);
    if (!a.admit) expect(a.reason).toMatch(/^waiting for disruption budget: \d+ of \d+ unavailable/);
  });
});
