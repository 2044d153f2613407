import { describe, expect, it } from 'vitest';
import type { HealthCheck, Vm } from '../drivers/types.js';

export interface HealthcheckContractSubject {
  check: HealthCheck;
  /** A VM the check should find healthy, one it should find unhealthy, and one that never answers. */
  healthy: Vm;
  unhealthy: Vm;
  silent?: Vm;
  close?: () => Promise<void>;
}

const vmBase: Omit<Vm, 'id' | 'ips'> = {
  name: 'vm',
  state: 'running',
  createdAt: new Date(0).toISOString(),
  metadata: {},
};
export const vmAt = (ip: string | undefined, id = `vm-${ip ?? 'none'}`): Vm => ({
  ...vmBase,
  id,
  ips: ip ? [ip] : [],
});

/** What every health check must do: verdicts, never exceptions, within its own timeouts. */
export function healthcheckContract(
  name: string,
  make: () => Promise<HealthcheckContractSubject>,
  /** Whether the subject has a `silent` VM; when not, why (the test is then reported as skipped). */
  silent: true | { skipBecause: string } = true,
): void {
  const run = async (fn: (s: HealthcheckContractSubject) => Promise<void>) => {
    const s = await make();
    try {
      await fn(s);
    } finally {
      await s.close?.();
      await s.check.close?.();
    }
  };

  describe(`health check contract: ${name}`, () => {
    it('finds a healthy VM healthy', () =>
      run(async (s) => {
        const r = await s.check.check(s.healthy);
        expect(r.verdict).toBe('healthy');
        expect(r.latencyMs).toBeGreaterThanOrEqual(0);
      }));

    it('finds an unhealthy VM unhealthy, with a reason and a code', () =>
      run(async (s) => {
        const r = await s.check.check(s.unhealthy);
        expect(r.verdict).toBe('unhealthy');
        expect(r.reason).toBeTruthy();
        expect(r.code).toMatch(/^[a-z]+_[a-z]+_\d{4}$/);
      }));

    it.skipIf(silent !== true)(
      'turns a VM that never answers into an unhealthy verdict, not an exception',
      () =>
        run(async (s) => {
          const r = await s.check.check(s.silent!);
          expect(r.verdict).toBe('unhealthy');
          expect(r.code).toMatch(/_2001$/);
        }),
    );

    it('gives a verdict for a VM without an address', () =>
      run(async (s) => {
        const r = await s.check.check(vmAt(undefined));
        expect(['unhealthy', 'unknown']).toContain(r.verdict);
      }));

    it('answers many checks at once', () =>
      run(async (s) => {
        const results = await Promise.all(
          Array.from({ length: 30 }, (_, i) => s.check.check(i % 2 ? s.healthy : s.unhealthy)),
        );
        expect(results.filter((r) => r.verdict === 'healthy')).toHaveLength(15);
      }));
  });
}
