import type { Vm } from '../drivers/types.js';
import { asShepherdError, isShepherdError, type ShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import type { Preset } from '../presets/preset.js';
import { type Acts, act, gateFor, lockWaitsOf } from './act.js';
import { capabilitiesOf } from './apply.js';
import type { CountDecision } from './demand.js';
import { desiredCount, withDemand } from './demand-phase.js';
import { isDue } from './due.js';
import { LeaseKeeper } from './lease-keeper.js';
import type { ManageDeps } from './manage-deps.js';
import { type HookRecords, hookRecordsKept, runHooks } from './manage-hooks.js';
import type { ManageOutcome, ManageResult } from './manage-outcome.js';
import {
  afterRemedies,
  backoffAfter,
  capacityAfter,
  type EventSink,
  nextState,
  recordHealthTransitions,
  rolloutAfter,
} from './next-state.js';
import { checkHealth, type Decision, decide, observe, withFaults } from './observe.js';
import { presetNow } from './preset-now.js';
import type { PresetTasksResult } from './run-tasks.js';
import { eventsWith, type PresetEvent, type PresetState, parseState, type RolloutState } from './state.js';
import { withActiveWaits } from './verb-admission.js';

export type { ManageDeps } from './manage-deps.js';
export type { ManageOutcome, ManageResult } from './manage-outcome.js';

export const leaseKey = (preset: string) => `preset/${preset}`;

/**
 * One manage of one preset, always under its lease, in phases: lease → tasks → load → due → observe →
 * desired count (demand-phase.ts) →
 * decide (pure) → act → next state (pure) → save. Nothing is done without the lease, and every save
 * carries its fencing token.
 */
export async function managePreset(
  planned: Preset,
  deps: ManageDeps,
  options: { force?: boolean } = {},
): Promise<ManageOutcome> {
  const run = new ManageRun(planned, deps);
  const lease = await takeLease(run);
  if (!lease) return run.outcome(run.leaseFailure ? 'failed' : 'leased_elsewhere', run.leaseFailure ?? {});
  const tasks = await runTasks(run, lease);
  let final: ManageOutcome | undefined;
  try {
    final = await manageHeld(run, lease, tasks, options.force === true);
    return final;
  } catch (err) {
    final = await failed(run, lease, err);
    return final;
  } finally {
    if (final && tasks?.after) await tasks.after(final);
    await lease.release();
  }
}

/** One manage in progress: its preset (read again when stale), the events it records, its outcome. */
class ManageRun {
  readonly started: number;
  readonly events: PresetEvent[] = [];
  preset: Preset;
  state: PresetState | undefined;
  token = 0;
  runtimeFailure = false;
  leaseFailure: Partial<ManageOutcome> | undefined;
  /** The lifecycle hooks' records to save (manage-hooks.ts). */
  hooks: HookRecords = {};
  /** The count decided from demand: kept even by a manage that fails later, as its event is. */
  demand: CountDecision | undefined;

  constructor(
    planned: Preset,
    readonly deps: ManageDeps,
  ) {
    this.preset = planned;
    this.started = deps.clock.now();
  }

  outcome(result: ManageResult, extra: Partial<ManageOutcome> = {}): ManageOutcome {
    return {
      preset: this.preset.name,
      result,
      created: 0,
      terminated: 0,
      failedActions: 0,
      lastManagedAt: null,
      durationMs: this.deps.clock.now() - this.started,
      ...extra,
    };
  }

  /** Records an event, stamped with the time, the lease's token and this instance. */
  readonly record: EventSink = (e) => {
    this.events.push({
      at: new Date(this.deps.clock.now()).toISOString(),
      token: this.token,
      instance: this.deps.instanceId,
      ...e,
    });
  };

  /** Records an event and logs it (at `warn` unless told). */
  logged(level: 'info' | 'warn' = 'warn'): EventSink {
    return (e) => {
      this.record(e);
      this.deps.logger[level]({ event: e.type, vm: e.vm, code: e.code, fence: this.token }, e.reason);
    };
  }

  /** A runtime store call; its failure (but a refused save) marks the manage's failure as the store's. */
  async runtime<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (err) {
      this.runtimeFailure = !isShepherdError(err, 'runtime_save_0001');
      throw err;
    }
  }
}

/** Phase lease: the preset's lease, or null (held elsewhere, or the store failed: `leaseFailure`). */
async function takeLease(run: ManageRun): Promise<LeaseKeeper | null> {
  const { deps, preset } = run;
  let lease: LeaseKeeper | null;
  try {
    lease = await LeaseKeeper.acquire(
      leaseKey(preset.name),
      preset.leaseTtlMs,
      deps.runtime,
      deps.clock,
      deps.logger,
    );
  } catch (err) {
    const error = asShepherdError(err, 'reconcile_manage_1001', 'lease acquire');
    deps.logger.error(errorFields(error), 'cannot take the preset lease');
    run.leaseFailure = { error, runtimeFailure: true };
    return null;
  }
  if (!lease) return null;
  run.token = lease.token;
  deps.logger[lease.takenOver ? 'info' : 'debug'](
    { fence: lease.token, takenOver: lease.takenOver },
    'lease taken',
  );
  return lease;
}

/** Phase tasks: the preset's queued and running tasks, run under the lease before the state is read. */
async function runTasks(run: ManageRun, lease: LeaseKeeper): Promise<PresetTasksResult | undefined> {
  if (!run.deps.tasks) return undefined;
  try {
    return await run.deps.tasks(lease);
  } catch (err) {
    const error = asShepherdError(err, 'reconcile_manage_1001', 'tasks');
    run.deps.logger.warn({ ...errorFields(error), fence: lease.token }, 'cannot run the preset tasks');
    return undefined;
  }
}

/** The phases under the lease, from loading the state to saving the next one. */
async function manageHeld(
  run: ManageRun,
  lease: LeaseKeeper,
  tasks: PresetTasksResult | undefined,
  force: boolean,
): Promise<ManageOutcome> {
  const { deps } = run;
  const leaseInfo = { token: lease.token, takenOver: lease.takenOver };
  let state = parseState(await run.runtime(() => deps.runtime.load(run.preset.name)));
  if (tasks?.activeVms) state = withActiveWaits(state, tasks.activeVms);
  run.state = state;
  const notDue = () => run.outcome('not_due', { lastManagedAt: state.lastManagedAt, lease: leaseInfo });
  if (!force && !tasks?.force && !isDue(state.lastManagedAt, run.preset.manageIntervalMs, run.started))
    return notDue();
  const vms = await observed(run, lease, state);
  if (!vms) return notDue();
  // Phase desired count: a count that follows demand is decided now (demand-phase.ts).
  const demand = await desiredCount(
    run.preset,
    state,
    deps.demandQuery,
    () => deps.clock.now(),
    (e) => run.logged(e.type === 'demand_unavailable' ? 'warn' : 'info')(e),
    lease.signal,
  );
  run.preset = demand.preset;
  run.demand = demand.decision;
  const { decision, rollout } = await decided(run, lease, state, vms);
  const acts = await acted(run, lease, state, decision, vms);
  const next = settled(run, state, decision, acts, vms, rollout);
  next.next = withDemand(next.next, demand.decision);
  // A manage whose lease ran out must not present itself as current: another instance may manage now.
  lease.assertValid();
  await run.runtime(() => deps.runtime.save(run.preset.name, next.next, lease.current));
  return run.outcome('managed', {
    lease: leaseInfo,
    created: acts.creates?.created.length ?? 0,
    terminated: acts.terminations?.done.length ?? 0,
    failedActions: next.failures.length,
    lastManagedAt: run.started,
    state: next.next,
    ...(next.failures[0] ? { error: next.failures[0] } : {}),
    ...lockWaitsOf(acts),
    ...(demand.figures ? { demand: demand.figures } : {}),
  });
}

/**
 * Phase observe: the preset's VMs with their faults, and the preset to act on: a newer copy when this
 * one is stale (preset-now.ts). Undefined: the preset is gone.
 */
async function observed(run: ManageRun, lease: LeaseKeeper, state: PresetState): Promise<Vm[] | undefined> {
  const { deps } = run;
  const shared = deps.sharedListing ? await deps.sharedListing() : undefined;
  const observedAt = performance.now();
  const listed = await observe(run.preset, deps.cloud, state, shared, lease.takenOver, lease.signal);
  const vms = await withFaults(run.preset, listed, deps.cloud, lease.signal);
  const preset = await presetNow(run.preset, vms, state, deps, { fence: lease.token, observedAt });
  if (!preset) return undefined;
  run.preset = preset;
  return vms;
}

/** Phase decide: health checks, then the pure decision, with the events of what changed. */
async function decided(
  run: ManageRun,
  lease: LeaseKeeper,
  state: PresetState,
  vms: Vm[],
): Promise<{ decision: Decision; rollout: RolloutState | undefined }> {
  const { deps, preset } = run;
  const results = await checkHealth(preset, vms, deps.health, deps.healthQueue, lease.signal);
  const now = deps.clock.now();
  const decision = decide(preset, vms, results, state, now, deps.healthHistory, {
    capabilities: capabilitiesOf(deps.cloud),
    inPlaceFields: deps.cloud.inPlaceFields,
    ...(deps.fleet && preset.healthcheck
      ? { fleet: { others: deps.fleet.others(preset.name), maxUnhealthy: deps.fleet.maxUnhealthy } }
      : {}),
  });
  recordHealthTransitions(state, decision, preset, run.logged());
  const rollout = rolloutAfter(preset, state, decision, now, (e) =>
    run.logged(e.type === 'rollout_paused' ? 'warn' : 'info')(e),
  );
  return { decision, rollout };
}

/** Phase act: the plan carried out, unless the preset is unmanaged or paused, or the daemon stops. */
async function acted(
  run: ManageRun,
  lease: LeaseKeeper,
  state: PresetState,
  decision: Decision,
  vms: Vm[],
): Promise<Acts> {
  const { deps, preset } = run;
  const acts: Acts = {};
  run.hooks = hookRecordsKept(preset, state);
  // A paused preset is observed and checked like an unmanaged one: the operator holds its actions.
  if (preset.unmanaged || state.paused || deps.stopping.aborted) return acts;
  const ctx = {
    preset,
    cloud: deps.cloud,
    lease,
    logger: deps.logger,
    record: run.record,
    stopping: deps.stopping,
    ...gateFor(preset, deps, lease, run.record, vms),
  };
  const hooked = preset.hooks
    ? await runHooks(preset, decision, state, {
        now: deps.clock.now(),
        record: run.logged('info'),
        logger: deps.logger,
        vms: ctx.vms ?? new Map(vms.map((v) => [v.id, v])),
        signal: lease.signal,
      })
    : undefined;
  if (hooked) run.hooks = hooked.records;
  await act(preset, hooked?.decision ?? decision, vms.length, ctx, acts);
  return acts;
}

/** Phase next state: what the actions changed (backoff, capacity, health), then the state to save. */
function settled(
  run: ManageRun,
  state: PresetState,
  decision: Decision,
  acts: Acts,
  vms: Vm[],
  rollout: RolloutState | undefined,
): { next: PresetState; failures: ShepherdError[] } {
  const { deps, preset } = run;
  const now = deps.clock.now();
  const backoff = acts.creates ? backoffAfter(preset, state, acts.creates, now, run.logged()) : state.backoff;
  const capacity = capacityAfter(
    preset,
    state.capacity,
    decision.capacityFound,
    acts.creates,
    now,
    run.logged(),
  );
  return nextState({
    preset,
    state,
    decision,
    acts,
    listed: vms,
    events: run.events,
    rollout,
    backoff,
    capacity,
    health: afterRemedies(decision.health, acts.remedies?.done ?? []),
    started: run.started,
    now,
    instanceId: deps.instanceId,
    eventsKept: deps.eventsKept,
    ...run.hooks,
  });
}

/** A manage that threw: logged, recorded with the state it found, and reported `failed`. */
async function failed(run: ManageRun, lease: LeaseKeeper, err: unknown): Promise<ManageOutcome> {
  const error = asShepherdError(err, 'reconcile_manage_1001');
  run.deps.logger.error({ ...errorFields(error), fence: lease.token }, 'manage failed');
  run.record({
    type: error.code === 'runtime_lease_0001' ? 'lease_lost' : 'manage_failed',
    reason: error.message,
    code: error.code,
  });
  const found = run.state && run.demand ? withDemand(run.state, run.demand) : run.state;
  await saveFailure(run.preset, found, run.events, error, lease, run.deps);
  return run.outcome('failed', {
    error,
    lastManagedAt: run.state?.lastManagedAt ?? null,
    lease: { token: lease.token, takenOver: lease.takenOver },
    runtimeFailure: run.runtimeFailure,
  });
}

/**
 * After a failed manage the previous state is kept and only the failure is added (with the count decided
 * from demand, whose event is among those kept), so the panel shows it; `lastManagedAt` is not advanced,
 * so the preset is retried on the next cycle.
 */
async function saveFailure(
  preset: Preset,
  state: PresetState | undefined,
  events: PresetEvent[],
  error: ShepherdError,
  lease: LeaseKeeper,
  deps: ManageDeps,
): Promise<void> {
  if (!state || !lease.valid()) return;
  const failed: PresetState = {
    ...state,
    events: eventsWith(state.events, events, deps.eventsKept),
    status: {
      ...(state.status ?? { desired: preset.count, counts: {}, guard: false }),
      phase: 'failing',
      code: error.code,
      message: error.message,
    },
  };
  await deps.runtime.save(preset.name, failed, lease.current).catch((err) => {
    deps.logger.warn(
      { err, code: asShepherdError(err, 'reconcile_manage_1001').code },
      'could not save the failure',
    );
  });
}
