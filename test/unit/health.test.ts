import { describe, expect, it } from 'vitest';
import type { HealthResult } from '../../src/drivers/types.js';
import { type HealthById, updateHealth } from '../../src/reconcile/health.js';
import { preset, T0, vm } from '../helpers/fixtures.js';

const policy = preset().healthcheck!.policy;
const bad: HealthResult = {
  verdict: 'unhealthy',
  reason: 'timeout',
  code: 'http_check_2001',
  latencyMs: 1000,
};
const good: HealthResult = { verdict: 'healthy', latencyMs: 3 };
const unknown: HealthResult = { verdict: 'unknown', latencyMs: 0 };

describe('updateHealth', () => {
  const a = vm();
  const run = (results: HealthResult[], p = policy, target = a) => {
    let health: HealthById = new Map();
    results.forEach((r, i) => {
      health = updateHealth(health, [target], new Map([[target.id, r]]), p, T0 + i * 1000, 10);
    });
    return health.get(target.id)!;
  };

  it('counts consecutive failures from the first one', () => {
    const h = run([bad, bad, bad]);
    expect(h.failures).toBe(3);
    expect(h.failingSince).toBe(T0);
  });

  it('resets on one success, as the original did', () => {
    const h = run([bad, bad, good, bad]);
    expect(h.failures).toBe(1);
    expect(h.failingSince).toBe(T0 + 3000);
  });

  it('leaves the streak alone on an unknown verdict', () => {
    expect(run([bad, unknown, bad]).failures).toBe(2);
  });

  it('does not count failures within startup_grace', () => {
    const young = vm({ ageSeconds: 10 });
    expect(run([bad, bad], { ...policy, startupGrace: 60 }, young).failures).toBe(0);
  });

  it('keeps a bounded history and forgets VMs no longer listed', () => {
    const h = run(Array.from({ length: 15 }, () => bad));
    expect(h.history).toHaveLength(10);
    const next = updateHealth(new Map([[a.id, h]]), [], new Map(), policy, T0, 10);
    expect(next.size).toBe(0);
  });

  it('hands back the same record while every VM stays healthy, and a new one when a VM goes or turns', () => {
    const b = vm();
    const both = [a, b];
    const healthy = new Map([
      [a.id, good],
      [b.id, good],
    ]);
    let health: HealthById = new Map();
    for (let i = 0; i < 12; i++) health = updateHealth(health, both, healthy, policy, T0 + i * 1000, 10);
    const steady = updateHealth(health, both, healthy, policy, T0 + 20_000, 10);
    expect(steady).toBe(health);
    const one = updateHealth(health, [a], new Map([[a.id, good]]), policy, T0 + 21_000, 10);
    expect([...one.keys()]).toEqual([a.id]);
    expect(one.get(a.id)).toBe(health.get(a.id));
    const turned = updateHealth(health, both, new Map([...healthy, [b.id, bad]]), policy, T0 + 22_000, 10);
    expect(turned).not.toBe(health);
    expect(turned.get(a.id)).toBe(health.get(a.id));
    expect(turned.get(b.id)?.failures).toBe(1);
  });
});
