import type { Logger } from 'pino';
import type { LockStore, RuntimeStore } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { Clock } from '../util/clock.js';
import { type Cloud, untilGone } from './apply.js';
import { DisruptionGate } from './disruption-gate.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { type DisruptionLimits, type LockLevel, terminateDisrupts } from './lock-keys.js';
import { eventsWith, type PresetEvent, parseState } from './state.js';

/** Task steps that disrupt their VM: each takes the infrastructure locks of `limits:` first. */
export const LOCKED_STEPS: ReadonlySet<string> = new Set(['terminate', 'stop', 'reboot', 'update']);

export interface TaskLockDeps {
  locks: { store: LockStore; limits: DisruptionLimits; onWait?: (level: LockLevel) => void };
  cloud: Cloud;
  runtime: RuntimeStore;
  clock: Clock;
  logger: Logger;
  instanceId: string;
  eventsKept: number;
}

export type LockedStep<T> = { ran: true; value: T } | { ran: false; reason: string };

/**
 * Runs a task's disruptive step under the locks its VM needs (see DisruptionGate), or says which lock it
 * waits for. The gate's events are saved in the preset's state under the lease; a wait already recorded
 * (`lastWait`, the same reason) is not recorded again, so a task waiting for many manages adds one event.
 */
export async function withStepLocks<T>(
  preset: Preset,
  step: string,
  vmId: string,
  lease: LeaseKeeper,
  lastWait: string | undefined,
  deps: TaskLockDeps,
  run: () => Promise<T>,
): Promise<LockedStep<T>> {
  const vm = await deps.cloud.get(vmId, { signal: lease.signal });
  // A VM gone or dead disrupts nothing: the step runs, and finds what the cloud shows.
  if (!vm || (step === 'terminate' && !terminateDisrupts(vm))) return { ran: true, value: await run() };
  const events: PresetEvent[] = [];
  const gate = new DisruptionGate({
    locks: deps.locks.store,
    limits: deps.locks.limits,
    account: deps.cloud.lockAccount,
    instance: deps.instanceId,
    preset: preset.name,
    ttlMs: preset.leaseTtlMs,
    lease,
    record: (e) =>
      events.push({
        ...e,
        at: new Date(deps.clock.now()).toISOString(),
        token: lease.token,
        instance: deps.instanceId,
      }),
    logger: deps.logger,
    ...(deps.locks.onWait ? { onWait: deps.locks.onWait } : {}),
  });
  let result: LockedStep<T> | undefined;
  try {
    // A terminate holds its locks until the VM is gone, as the loop's do.
    const observe = step === 'terminate' ? () => untilGone(deps.cloud, vmId, lease) : undefined;
    const r = await gate.run(vm, step, run, observe);
    result = r.ran ? r : { ran: false, reason: r.wait.reason };
    return result;
  } finally {
    const waitedAgain = result?.ran === false && result.reason === lastWait;
    if (events.length > 0 && !waitedAgain)
      // The step's outcome stands either way: a failed save loses only these events (logged).
      await saveEvents(preset, events, lease, deps).catch((err) =>
        deps.logger.warn({ err, fence: lease.token }, 'could not save the disruption events'),
      );
  }
}

async function saveEvents(
  preset: Preset,
  events: readonly PresetEvent[],
  lease: LeaseKeeper,
  deps: TaskLockDeps,
): Promise<void> {
  if (!lease.valid()) return;
  const state = parseState(await deps.runtime.load(preset.name));
  const next = { ...state, events: eventsWith(state.events, events, deps.eventsKept) };
  await deps.runtime.save(preset.name, next, lease.current);
}
