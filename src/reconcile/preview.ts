import type PQueue from 'p-queue';
import type { HealthCheck, IaasDriver, RuntimeStore } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import type { VmClass } from './classify.js';
import { checkHealth, decide } from './observe.js';
import type { GuardVerdict, Termination } from './plan.js';
import { parseState } from './state.js';

/** What one manage of a preset would do now, for `vmshepherd plan`. */
export interface PresetPreview {
  preset: string;
  count: number;
  revision: string;
  unmanaged: boolean;
  vms: { id: string; name: string; class: VmClass; reason: string; failing: boolean }[];
  terminate: Termination[];
  create: number;
  createReason: string;
  guard: GuardVerdict;
}

/**
 * Observes and decides exactly as a manage does, but without a lease, without acting and without saving:
 * reads the cloud listing, the stored health counters and runs the checks (reads only).
 */
export async function previewPreset(
  preset: Preset,
  deps: {
    cloud: IaasDriver;
    health: HealthCheck | null;
    runtime: RuntimeStore;
    healthQueue: PQueue;
    clock: Clock;
    healthHistory: number;
  },
): Promise<PresetPreview> {
  const signal = new AbortController().signal;
  const state = parseState(await deps.runtime.load(preset.name));
  const vms = await deps.cloud.list(preset.name, { signal });
  const results = await checkHealth(preset, vms, deps.health, deps.healthQueue, signal);
  const decision = decide(preset, vms, results, state, deps.clock.now(), deps.healthHistory);
  return {
    preset: preset.name,
    count: preset.count,
    revision: preset.source.revision,
    unmanaged: preset.unmanaged,
    vms: decision.classified.map((c) => ({
      id: c.vm.id,
      name: c.vm.name,
      class: c.class,
      reason: c.reason,
      failing: c.failing,
    })),
    terminate: preset.unmanaged ? [] : decision.plan.terminate,
    create: preset.unmanaged ? 0 : decision.plan.create,
    createReason: decision.plan.createReason,
    guard: decision.plan.guard,
  };
}
