import type { Logger } from 'pino';
import type { CallOptions, IaasCapability, IaasDriver, Vm, VmSpec } from '../drivers/types.js';
import { asShepherdError, type ShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import type { Preset } from '../presets/preset.js';
import type { LeaseKeeper } from './lease-keeper.js';
import type { InPlaceUpdate, Remedy, Termination } from './plan.js';
import { idempotencyKey, vmSpec } from './spec.js';
import type { PresetEvent } from './state.js';

/** The cloud as the loop uses it: the driver plus its optional verbs (the daemon's CloudAccount). */
export interface Cloud extends IaasDriver {
  can(name: IaasCapability): boolean;
  verb(name: IaasCapability, vmId: string, spec: VmSpec | undefined, options?: CallOptions): Promise<void>;
}

/** The optional verbs a cloud offers, for the pure plan. */
export function capabilitiesOf(cloud: Cloud): Set<IaasCapability> {
  return new Set((['stop', 'start', 'reboot', 'rebuild', 'resize'] as const).filter((c) => cloud.can(c)));
}

export interface ApplyContext {
  preset: Preset;
  cloud: Cloud;
  lease: LeaseKeeper;
  logger: Logger;
  record(event: Omit<PresetEvent, 'at' | 'token' | 'instance'>): void;
  /** Set when the daemon stops: actions not yet started are skipped. */
  stopping: AbortSignal;
}

export interface TerminationOutcome {
  done: Termination[];
  failed: { termination: Termination; error: ShepherdError }[];
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
        ctx.lease.assertValid();
        await ctx.cloud.terminate(t.vmId, { signal: ctx.lease.signal });
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

export interface CreateOutcome {
  created: Vm[];
  failed: ShepherdError[];
}

/**
 * Creates `n` VMs, at most `create_concurrency` at once. A failed create is not repeated in this manage:
 * whether it took effect is seen on the next listing.
 */
export async function applyCreates(n: number, ctx: ApplyContext): Promise<CreateOutcome> {
  const outcome: CreateOutcome = { created: [], failed: [] };
  let next = 0;
  const reason = `missing VMs (spec ${ctx.preset.specHash})`; // one string for all creates of this manage
  const worker = async () => {
    while (next < n && !ctx.stopping.aborted) {
      next++;
      try {
        ctx.lease.assertValid();
        const spec = vmSpec(ctx.preset);
        const vm = await ctx.cloud.create(spec, {
          idempotencyKey: idempotencyKey(ctx.lease.token),
          signal: ctx.lease.signal,
        });
        outcome.created.push(vm);
        ctx.record({ type: 'created', vm: vm.id, reason, revision: ctx.preset.source.revision });
        ctx.logger.info({ vm: vm.id, name: vm.name, fence: ctx.lease.token }, 'created VM');
      } catch (err) {
        const error = asShepherdError(err, 'reconcile_create_0001');
        outcome.failed.push(error);
        ctx.record({ type: 'create_failed', reason: error.message, code: error.code });
        ctx.logger.warn({ ...errorFields(error), fence: ctx.lease.token }, 'create failed');
        if (error.code === 'runtime_lease_0001') return;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, ctx.preset.createConcurrency) }, worker));
  return outcome;
}

export interface VerbOutcome<T> {
  done: T[];
  failed: { action: T; error: ShepherdError }[];
}

/** Remedies (reboot, rebuild) and in-place updates (rebuild, resize), concurrently, under the lease. */
export async function applyVerbs<T extends Remedy | InPlaceUpdate>(
  actions: readonly T[],
  ctx: ApplyContext,
  describe: (a: T) => { verb: IaasCapability; event: 'remedied' | 'updated'; reason: string },
): Promise<VerbOutcome<T>> {
  const outcome: VerbOutcome<T> = { done: [], failed: [] };
  if (actions.length === 0) return outcome; // the steady state: no spec (and its random name) per manage
  const spec = vmSpec(ctx.preset);
  await Promise.all(
    actions.map(async (action) => {
      if (ctx.stopping.aborted) return;
      const { verb, event, reason } = describe(action);
      try {
        ctx.lease.assertValid();
        await ctx.cloud.verb(verb, action.vmId, spec, { signal: ctx.lease.signal });
        outcome.done.push(action);
        ctx.record({ type: event, vm: action.vmId, reason: `${verb}: ${reason}` });
        ctx.logger.info({ vm: action.vmId, verb, reason, fence: ctx.lease.token }, `${event} VM`);
      } catch (err) {
        const error = asShepherdError(err, 'reconcile_manage_1001');
        outcome.failed.push({ action, error });
        const failed = event === 'remedied' ? 'remedy_failed' : 'update_failed';
        ctx.record({ type: failed, vm: action.vmId, reason: `${verb}: ${error.message}`, code: error.code });
        ctx.logger.warn(
          { vm: action.vmId, verb, ...errorFields(error), fence: ctx.lease.token },
          `${verb} failed`,
        );
      }
    }),
  );
  return outcome;
}
