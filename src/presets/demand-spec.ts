import type { DemandCountInput } from '../config/demand-schema.js';

/** A schedule window: open for `durationMs` after each start of its cron, read in its time zone. */
export interface DemandWindow {
  cron: string;
  timezone: string;
  durationMs: number;
  min: number;
  max: number;
}

/** `count:` as bounds that follow demand (docs/demand.md), compiled. */
export interface DemandSpec {
  min: number;
  max: number;
  target?: { prometheus: { url: string; query: string; timeoutMs: number }; perVm: number };
  schedule: DemandWindow[];
  cooldownMs: number;
  step: number;
}

/** The compiled demand of a `count:` block (the preset's `count` is then its min until a manage decides). */
export function demandSpecOf(c: DemandCountInput): DemandSpec {
  return {
    min: c.min,
    max: c.max,
    ...(c.target
      ? {
          target: {
            prometheus: {
              url: c.target.prometheus.url,
              query: c.target.prometheus.query,
              timeoutMs: c.target.prometheus.timeout * 1000,
            },
            perVm: c.target.per_vm,
          },
        }
      : {}),
    schedule: (c.schedule ?? []).map((w) => ({
      cron: w.cron,
      timezone: w.timezone,
      durationMs: w.duration * 1000,
      min: w.min,
      max: w.max,
    })),
    cooldownMs: c.cooldown * 1000,
    step: c.step,
  };
}
