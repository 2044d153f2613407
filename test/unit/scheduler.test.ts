import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import type { Preset } from '../../src/presets/preset.js';
import type { ManageOutcome } from '../../src/reconcile/manage-preset.js';
import { Scheduler } from '../../src/reconcile/scheduler.js';
import { systemClock } from '../../src/util/clock.js';

let scheduler: Scheduler | undefined;
afterEach(() => scheduler?.stop());

it('manages every preset before any twice when cycles take longer than worker_interval', async () => {
  // 60 presets, 4 at a time, 20 ms each: a cycle lasts about 300 ms, 30 times the 10 ms interval; with
  // manage_interval 0 every preset is due again as soon as it was managed.
  const presets = Array.from({ length: 60 }, (_, i) => ({ name: `p${i}`, manageIntervalMs: 0 }) as Preset);
  const managed = new Map<string, number>();
  const order: string[] = [];
  scheduler = new Scheduler({
    concurrency: 4,
    intervalMs: () => 10,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    presets: () => presets,
    manage: async (preset): Promise<ManageOutcome> => {
      await new Promise((r) => setTimeout(r, 20));
      managed.set(preset.name, (managed.get(preset.name) ?? 0) + 1);
      order.push(preset.name);
      return {
        preset: preset.name,
        result: 'managed',
        created: 0,
        terminated: 0,
        failedActions: 0,
        lastManagedAt: Date.now(),
        durationMs: 20,
      };
    },
  });
  scheduler.start();
  const deadline = Date.now() + 10_000;
  while (managed.size < presets.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await scheduler.stop();
  expect(managed.size).toBe(presets.length);
  // Round robin: by the time the last preset was first managed, none had been managed a third time.
  const firstOfLast = order.indexOf(presets.at(-1)?.name ?? '');
  const counts = new Map<string, number>();
  for (const name of order.slice(0, firstOfLast + 1)) counts.set(name, (counts.get(name) ?? 0) + 1);
  expect(Math.max(...counts.values())).toBeLessThanOrEqual(2);
});
