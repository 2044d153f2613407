import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import {
  type CallOptions,
  IAAS_CAPABILITIES,
  type IaasCapability,
  type IaasDriver,
  META_PARTS,
  META_PRESET,
  META_REVISION,
  type SpecField,
  type Vm,
  type VmSpec,
} from '../drivers/types.js';
import { asShepherdError, type ShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import type { Preset } from '../presets/preset.js';
import { decodeParts, encodeParts } from '../presets/spec-parts.js';
import type { DisruptionGate, LockWait } from './disruption-gate.js';
import type { InPlaceStep } from './in-place.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { DISRUPTIVE_VERBS, terminateDisrupts } from './lock-keys.js';
import type { InPlaceUpdate, Remedy, Termination } from './plan.js';
import { vmSpec } from './spec.js';
import type { PresetEvent } from './state.js';

/** The cloud as the loop uses it: the driver plus its optional verbs (the daemon's CloudAccount). */
export interface Cloud extends IaasDriver {
  can(name: IaasCapability): boolean;
  verb(name: IaasCapability, vmId: string, spec: VmSpec | undefined, options?: CallOptions): Promise<void>;
  /** The spec fields the driver declares it changes in place, when it narrows the default. */
  inPlaceFields?: readonly SpecField[] | undefined;
}

/** The optional verbs a cloud offers, for the pure plan. */
export function capabilitiesOf(cloud: Cloud): Set<IaasCapability> {
  return new Set(IAAS_CAPABILITIES.filter((c) => cloud.can(c)));
}

export interface ApplyContext {
  preset: Preset;
  cloud: Cloud;
  lease: LeaseKeeper;
  logger: Logger;
  record(event: Omit<PresetEvent, 'at' | 'token' | 'instance'>): void;
  /** Set when the daemon stops: actions not yet started are skipped. */
  stopping: AbortSignal;
  /** With `limits:`: disruptive calls run through it (docs/locks.md), on the VMs as listed (`vms`). */
  gate?: DisruptionGate | undefined;
  vms?: ReadonlyMap<string, Vm> | undefined;
}

export interface TerminationOutcome {
  done: Termination[];
  failed: { termination: Termination; error: ShepherdError }[];
  /** Deferred to the next manage: a lock they need has no free slot. */
  waiting?: { termination: Termination; wait: LockWait }[];
}

/** How long a terminate under a lock waits to see its VM gone before the lock is freed anyway. */
const GONE_PATIENCE_MS = 120_000;
const GONE_POLL_MS = 1000;

/**
 * Runs `call` through the gate when there is one and the VM is known; `undefined` when it ran, else the
 * lock it waits for. `disrupts` false (a dead VM's removal) runs it without a lock.
 */
export async function gated(
  ctx: ApplyContext,
  vmId: string,
  operation: string,
  disrupts: boolean,
  call: () => Promise<void>,
  observe?: () => Promise<string>,
): Promise<LockWait | undefined> {
  const vm = ctx.vms?.get(vmId);
  if (!ctx.gate || !vm || !disrupts) {
    await call();
    return undefined;
  }
  const r = await ctx.gate.run(vm, operation, call, observe);
  return r.ran ? undefined : r.wait;
}

/**
 * Waits until the cloud no longer lists the VM (its deletion is what occupies the host), at most
 * GONE_PATIENCE_MS: the note says what the cloud showed last.
 */
export async function untilGone(cloud: Cloud, vmId: string, lease: LeaseKeeper): Promise<string> {
  const deadline = performance.now() + GONE_PATIENCE_MS;
  try {
    for (;;) {
      const vm = await cloud.get(vmId, { signal: lease.signal });
      if (!vm || vm.state === 'terminated') return 'gone';
      if (performance.now() >= deadline) return `still listed (${vm.providerStatus ?? vm.state})`;
      await sleep(GONE_POLL_MS, undefined, { signal: lease.signal });
    }
  } catch (err) {
    // The terminate was answered: it stands, only its effect was not seen.
    return `answered, not seen gone: ${(err as Error).message}`;
  }
}

/** Terminates concurrently (the account limiter bounds the calls); each call first checks the lease. */
export async function applyTerminations(
  terminations: readonly Termination[],
  ctx: ApplyContext,
): Promise<TerminationOutcome> {
  const outcome: TerminationOutcome = { done: [], failed: [] };
  if (terminations.length === 0) return outcome; // the steady state: nothing allocated per manage
  await Promise.all(
    terminations.map(async (t) => {
      if (ctx.stopping.aborted) return;
      try {
        const wait = await gated(
          ctx,
          t.vmId,
          'terminate',
          terminateDisrupts(ctx.vms?.get(t.vmId)),
          async () => {
            ctx.lease.assertValid();
            await ctx.cloud.terminate(t.vmId, { signal: ctx.lease.signal });
          },
          () => untilGone(ctx.cloud, t.vmId, ctx.lease),
        );
        if (wait) {
          outcome.waiting ??= [];
          outcome.waiting.push({ termination: t, wait });
          return;
        }
        outcome.done.push(t);
        ctx.record({
          type: 'terminated',
          vm: t.vmId,
          reason: `${t.class}: ${t.reason}`,
          ...(t.data ? { data: t.data } : {}),
        });
        ctx.logger.info(
          { vm: t.vmId, class: t.class, reason: t.reason, fence: ctx.lease.token },
          'terminated VM',
        );
      } catch (err) {
        const error = asShepherdError(err, 'reconcile_terminate_0001');
        outcome.failed.push({ termination: t, error });
        ctx.record({ type: 'terminate_failed', vm: t.vmId, reason: error.message, code: error.code });
        ctx.logger.warn({ vm: t.vmId, ...errorFields(error), fence: ctx.lease.token }, 'terminate failed');
      }
    }),
  );
  return outcome;
}

/**
 * Adopts the original VmShepherd's VMs of the preset (named after it, no metadata): writes the preset's
 * membership and revision on each, nothing else; they are counted already and never rolled for a spec
 * they do not record.
 */
export async function applyAdoptions(
  ids: readonly string[],
  ctx: ApplyContext,
): Promise<VerbOutcome<string>> {
  if (ids.length === 0) return { done: [], failed: [] };
  const membership = { [META_PRESET]: ctx.preset.name, [META_REVISION]: ctx.preset.source.revision };
  const spec = { ...vmSpec(ctx.preset), metadata: membership }; // only its metadata is written
  return applyEach(ids, ctx, async (id) => {
    try {
      ctx.lease.assertValid();
      await ctx.cloud.verb('setMetadata', id, spec, { signal: ctx.lease.signal });
      const reason = `named ${ctx.preset.name} without vmshepherd metadata: the original VmShepherd's VM, adopted`;
      ctx.record({ type: 'adopted', vm: id, reason });
      ctx.logger.info({ vm: id, fence: ctx.lease.token }, 'adopted VM');
      return undefined;
    } catch (err) {
      const error = asShepherdError(err, 'reconcile_manage_1001');
      ctx.record({ type: 'adopt_failed', vm: id, reason: error.message, code: error.code });
      ctx.logger.warn({ vm: id, ...errorFields(error), fence: ctx.lease.token }, 'adoption failed');
      throw error;
    }
  });
}

export interface VerbOutcome<T> {
  done: T[];
  failed: { action: T; error: ShepherdError }[];
  /** Deferred to the next manage: a lock they need has no free slot. */
  waiting?: { action: T; wait: LockWait }[];
}

/** Remedies (reboot, rebuild), concurrently, under the lease. */
export async function applyRemedies(
  remedies: readonly Remedy[],
  ctx: ApplyContext,
  describe: (r: Remedy) => string,
): Promise<VerbOutcome<Remedy>> {
  const spec = remedies.length > 0 ? vmSpec(ctx.preset) : undefined; // none made in the steady state
  return applyEach(remedies, ctx, async (r) => {
    const reason = `${r.action}: ${describe(r)}`;
    try {
      const wait = await gated(ctx, r.vmId, r.action, DISRUPTIVE_VERBS.has(r.action), async () => {
        ctx.lease.assertValid();
        await ctx.cloud.verb(r.action, r.vmId, spec, { signal: ctx.lease.signal });
      });
      if (wait) return wait;
      ctx.record({ type: 'remedied', vm: r.vmId, reason });
      ctx.logger.info({ vm: r.vmId, verb: r.action, reason, fence: ctx.lease.token }, 'remedied VM');
      return undefined;
    } catch (err) {
      const error = asShepherdError(err, 'reconcile_manage_1001');
      ctx.record({
        type: 'remedy_failed',
        vm: r.vmId,
        reason: `${r.action}: ${error.message}`,
        code: error.code,
      });
      ctx.logger.warn(
        { vm: r.vmId, verb: r.action, ...errorFields(error), fence: ctx.lease.token },
        `${r.action} failed`,
      );
      throw error;
    }
  });
}

/**
 * In-place updates, concurrently, under the lease: each VM's verbs in order, then its record (see
 * bringToSpec). The event names the verbs and the fields that required each.
 */
export async function applyUpdates(
  updates: readonly InPlaceUpdate[],
  ctx: ApplyContext,
): Promise<VerbOutcome<InPlaceUpdate>> {
  const spec = updates.length > 0 ? vmSpec(ctx.preset) : undefined;
  return applyEach(updates, ctx, async (u) => {
    const data = { op: u.op, fields: u.steps.flatMap((s) => s.fields).join(',') };
    try {
      const disrupts = u.steps.some((step) => DISRUPTIVE_VERBS.has(step.verb));
      const wait = await gated(ctx, u.vmId, u.op, disrupts, () =>
        bringToSpec(ctx.cloud, u.vmId, u.steps, u.recorded, ctx.preset, spec as VmSpec, ctx.lease),
      );
      if (wait) return wait;
      const reason = `${u.op}: ${u.reason}; spec ${u.from} → ${ctx.preset.specHash}`;
      ctx.record({ type: 'updated', vm: u.vmId, reason, data });
      ctx.logger.info({ vm: u.vmId, op: u.op, reason, fence: ctx.lease.token }, 'updated VM in place');
      return undefined;
    } catch (err) {
      const error = asShepherdError(err, 'reconcile_manage_1001');
      ctx.record({
        type: 'update_failed',
        vm: u.vmId,
        reason: `${u.op}: ${error.message}`,
        code: error.code,
        data,
      });
      ctx.logger.warn(
        { vm: u.vmId, op: u.op, ...errorFields(error), fence: ctx.lease.token },
        'update failed',
      );
      throw error;
    }
  });
}

/**
 * Brings a VM to the spec in place: each verb in order (each resolves once the cloud shows its change),
 * then the spec recorded on the VM. When a later verb fails, the fields of the verbs that succeeded are
 * recorded on their own, so that what the cloud cannot show (user data) is not changed again for nothing.
 */
export async function bringToSpec(
  cloud: Cloud,
  vmId: string,
  steps: readonly InPlaceStep[],
  recorded: string | undefined,
  preset: Preset,
  spec: VmSpec,
  lease: LeaseKeeper,
): Promise<void> {
  const done: SpecField[] = [];
  try {
    for (const step of steps) {
      lease.assertValid();
      await cloud.verb(step.verb, vmId, spec, { signal: lease.signal });
      done.push(...step.fields);
    }
  } catch (err) {
    if (done.length > 0 && lease.valid()) {
      const parts = { ...decodeParts(recorded) };
      for (const f of done) parts[f] = preset.specParts[f];
      const partial = { ...spec, metadata: { [META_PARTS]: encodeParts(parts) } };
      await cloud.verb('setMetadata', vmId, partial, { signal: lease.signal }).catch(() => undefined);
    }
    throw err;
  }
  lease.assertValid();
  await cloud.verb('setMetadata', vmId, spec, { signal: lease.signal });
}

/**
 * Runs `run` for every action at once (the account limiter bounds the calls); a throw marks it failed, a
 * lock wait returned defers it.
 */
async function applyEach<T>(
  actions: readonly T[],
  ctx: ApplyContext,
  run: (action: T) => Promise<LockWait | undefined>,
): Promise<VerbOutcome<T>> {
  const outcome: VerbOutcome<T> = { done: [], failed: [] };
  if (actions.length === 0) return outcome; // the steady state: nothing allocated per manage
  await Promise.all(
    actions.map(async (action) => {
      if (ctx.stopping.aborted) return;
      try {
        const wait = await run(action);
        if (!wait) outcome.done.push(action);
        else {
          outcome.waiting ??= [];
          outcome.waiting.push({ action, wait });
        }
      } catch (err) {
        outcome.failed.push({ action, error: asShepherdError(err, 'reconcile_manage_1001') });
      }
    }),
  );
  return outcome;
}
