import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';

describe('docs/grafana-dashboard.json', () => {
  it('queries only metrics the daemon exports, with their labels', async () => {
    const dashboard = JSON.parse(readFileSync('docs/grafana-dashboard.json', 'utf8'));
    const metrics = new Metrics();
    const known = new Map((await metrics.registry.getMetricsAsJSON()).map((m) => [m.name, m] as const));
    const exprs: string[] = dashboard.panels.flatMap((p: { targets: { expr: string }[] }) =>
      p.targets.map((t) => t.expr),
    );
    expect(exprs.length).toBeGreaterThan(15);
    const used = new Set<string>();
    for (const expr of exprs) {
      for (const [, name] of expr.matchAll(/\b(vmshepherd_[a-z_]+?)(?:_bucket|_sum|_count)?(?=[{[\s)]|$)/g)) {
        used.add(name as string);
        expect(known.has(name as string), `${name} in ${expr}`).toBe(true);
      }
    }
    // Every metric the daemon exports is on the dashboard.
    expect([...known.keys()].filter((n) => !used.has(n))).toEqual([]);
  });
});
