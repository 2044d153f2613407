import {
  type HealthCheck,
  type HealthResult,
  type IaasCapability,
  type IaasDriver,
  META_PRESET,
  type SpecField,
  type Vm,
} from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { TaskLimiter } from '../util/limiter.js';
import { createBlock } from './backoff.js';
import {
  type CapacityFound,
  type CapacitySkips,
  capacityFaults,
  skipsAfter,
  skipsCapacity,
} from './capacity-skips.js';
import { type ClassifiedVm, classify } from './classify.js';
import { type HealthById, healthOfSnapshots, healthTargets, updateHealth } from './health.js';
import { type Plan, type PlanContext, plan } from './plan.js';
import type { PresetState } from './state.js';

/**
 * One listing of a whole cloud account, taken once per cycle and shared by its presets. Each preset
 * takes its VMs once: the listing then lets go of them, so at 100,000 VMs a preset's listed VMs die
 * with its manage instead of all of them living until the cycle's last preset is done. A second take
 * (the same preset managed again within the cycle) finds nothing, and the preset lists itself.
 */
export class Listing {
  private readonly taken = new Set<string>();

  constructor(
    readonly startedAt: number,
    private readonly byPreset: Map<string, () => Vm[]>,
  ) {}

  /**
   * The preset's VMs (none listed: an empty array); undefined when they were taken already. Throws
   * when the driver cannot decode them (the preset's manage then fails; the others go on).
   */
  take(preset: string): Vm[] | undefined {
    if (this.taken.has(preset)) return undefined;
    this.taken.add(preset);
    const vms = this.byPreset.get(preset);
    this.byPreset.delete(preset);
    return vms ? vms() : [];
  }
}

/** Tolerated clock difference between instances when comparing a listing's start with a save time. */
export const LISTING_SKEW_MS = 1000;

/**
 * The preset's VMs. The account's shared listing is used only when it certainly includes this preset's
 * last actions: it started after the preset's state was last saved (with a margin for clock skew between
 * instances), and the lease was not taken over from an instance that may have acted without saving.
 * Otherwise the preset is listed on its own.
 */
/**
 * The faults of the preset's failed VMs that the listing left out (Nova's server list may not carry
 * them; a server's own GET does), read one call per such VM: only for a preset with fallbacks (a flavor
 * list or a zone spread) or a server group (anti-affinity beyond the hosts is a capacity error), which
 * needs them to tell a VM failed for capacity rather than replace it at once, in a loop. Failed VMs are replaced in
 * the same manage, so this costs nothing in a steady cycle. A read that fails leaves the VM as listed.
 */
export async function withFaults(
  preset: Preset,
  vms: Vm[],
  cloud: IaasDriver,
  signal: AbortSignal,
): Promise<Vm[]> {
  if (!skipsCapacity(preset)) return vms;
  if (!vms.some((v) => v.state === 'error' && !v.fault)) return vms;
  return Promise.all(
    vms.map(async (v) => {
      if (v.state !== 'error' || v.fault) return v;
      const fresh = await cloud.get(v.id, { signal }).catch(() => null);
      return fresh?.fault ? { ...v, fault: fresh.fault } : v;
    }),
  );
}

export async function observe(
  preset: Preset,
  cloud: IaasDriver,
  state: PresetState,
  shared: Listing | undefined,
  takenOver: boolean,
  signal: AbortSignal,
): Promise<Vm[]> {
  if (
    shared &&
    !takenOver &&
    (state.lastSavedAt === null || shared.startedAt > state.lastSavedAt + LISTING_SKEW_MS)
  ) {
    const vms = shared.take(preset.name);
    if (vms) return membersOf(preset, vms);
  }
  return membersOf(preset, await cloud.list(preset.name, { signal }));
}

/**
 * The preset's VMs among those listed for it: its own (by metadata), and, unless `adopt_by_name` is off,
 * VMs without vmshepherd's metadata named exactly after it (the original VmShepherd named them so).
 */
export function membersOf(preset: Preset, vms: Vm[]): Vm[] {
  if (vms.every((v) => v.metadata[META_PRESET] !== undefined)) return vms; // the usual case: no copy
  return vms.filter((v) =>
    v.metadata[META_PRESET] === undefined
      ? preset.adoptByName && v.name === preset.name
      : v.metadata[META_PRESET] === preset.name,
  );
}

/**
 * Checks every running VM, all at once within the daemon-wide limit. A check that throws or does not
 * answer within the health check timeout becomes a verdict; nothing here aborts the other checks.
 * One timer, one abort signal and one race against the deadline serve all checks of the preset: a
 * manage checks many VMs every cycle, so nothing but the check itself is allocated per VM.
 */
export async function checkHealth(
  preset: Preset,
  vms: readonly Vm[],
  health: HealthCheck | null,
  queue: TaskLimiter,
  signal: AbortSignal,
): Promise<Map<string, HealthResult>> {
  const results = new Map<string, HealthResult>();
  const targets = healthTargets(vms);
  if (!health || !preset.healthcheck || targets.length === 0) return results;
  const timeoutMs = preset.healthcheck.policy.timeoutMs;
  const controller = new AbortController();
  const abort = () => controller.abort(signal.reason);
  signal.addEventListener('abort', abort, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => {
      resolve('timeout');
      controller.abort(new Error('health check timeout'));
    }, timeoutMs);
  });
  const started = performance.now();
  // Set once the deadline passed: a check that answers later must not change the results handed on.
  let closed = false;
  const call = { signal: controller.signal }; // one per preset, read-only for the driver
  const checkAll = Promise.all(
    targets.map((vm) =>
      queue
        .add(() => checkOne(health, vm, call))
        .then((result) => {
          if (!closed) results.set(vm.id, result ?? NOT_CHECKED);
        }),
    ),
  );
  try {
    if ((await Promise.race([checkAll, deadline])) === 'timeout') {
      closed = true;
      const timedOut: HealthResult = {
        verdict: 'unhealthy',
        reason: `no answer within ${timeoutMs / 1000}s`,
        code: 'health_check_2001',
        latencyMs: performance.now() - started,
      };
      for (const vm of targets) if (!results.has(vm.id)) results.set(vm.id, timedOut);
    }
  } finally {
    closed = true;
    clearTimeout(timer);
    signal.removeEventListener('abort', abort);
  }
  return results;
}

const NOT_CHECKED: HealthResult = Object.freeze({ verdict: 'unknown', reason: 'not checked', latencyMs: 0 });

/** One check; a throw or rejection becomes an `unknown` verdict. Not async: no frame kept per VM. */
function checkOne(health: HealthCheck, vm: Vm, call: { signal: AbortSignal }): Promise<HealthResult> {
  const started = performance.now();
  const failed = (err: unknown): HealthResult => ({
    verdict: 'unknown',
    reason: `check failed: ${(err as Error).message}`,
    code: 'health_check_1001',
    latencyMs: performance.now() - started,
  });
  try {
    return Promise.resolve(health.check(vm, call)).then(undefined, failed);
  } catch (err) {
    return Promise.resolve(failed(err));
  }
}

const NO_HEALTH: HealthById = new Map();

export interface Decision {
  health: HealthById;
  /** The health the previous manage saved (`health` itself when no check changed anything). */
  healthBefore: HealthById;
  classified: ClassifiedVm[];
  plan: Plan;
  /** Placements this listing shows full (VMs failed for capacity): skipped by the manage's state. */
  capacityFound: CapacityFound[];
  /** The capacity skips the plan used (the state's, with what this listing found). */
  capacity: CapacitySkips | undefined;
  /** The time the decision was made for (epoch ms). */
  decidedAt: number;
}

/** What a decision takes beside the preset and its VMs: the cloud's verbs and the fleet's health. */
export interface DecideContext {
  capabilities?: ReadonlySet<IaasCapability>;
  inPlaceFields?: readonly SpecField[] | undefined;
  fleet?: PlanContext['fleet'];
}

/** The pure part of a manage: fold health results, classify, plan. */
export function decide(
  preset: Preset,
  vms: readonly Vm[],
  results: ReadonlyMap<string, HealthResult>,
  state: PresetState,
  now: number,
  historyLength: number,
  context: DecideContext = {},
): Decision {
  const { capabilities = new Set(), inPlaceFields, fleet } = context;
  // Without a health check there is no health to read or fold (and no Map to build per manage).
  const healthBefore = preset.healthcheck ? healthOfSnapshots(state.vms) : NO_HEALTH;
  const health = preset.healthcheck
    ? updateHealth(healthBefore, vms, results, preset.healthcheck.policy, now, historyLength)
    : NO_HEALTH;
  const classified = classify(preset, vms, health, now, state.lifecycle, state.deleting);
  // VMs the cloud failed for capacity after taking their create: their placement is skipped from now on.
  const capacityFound = capacityFaults(preset, vms);
  const capacity =
    capacityFound.length > 0
      ? skipsAfter(state.capacity, capacityFound, [], preset, preset.createBackoff.quotaWindowMs, now).skips
      : state.capacity;
  const ctx = {
    now,
    capabilities,
    inPlaceFields,
    fleet,
    rollout: state.rollout,
    budgetHints: { verbs: verbsInFlight(state) },
    verbsWaiting: verbsWaiting(state, now),
    createBlock: createBlock(state.backoff ?? {}, preset.flavor, now),
    capacity,
    ...(preset.healthcheck?.policy.quarantine ? { stopFailures: stopFailures(state) } : {}),
  };
  return {
    health,
    healthBefore,
    classified,
    plan: plan(preset, classified, ctx),
    capacityFound,
    capacity,
    decidedAt: now,
  };
}

/** Failed stops into quarantine per VM, from the events (`quarantine_failed`). */
export function stopFailures(state: PresetState): ReadonlyMap<string, number> {
  const failures = new Map<string, number>();
  for (const e of state.events)
    if (e.type === 'quarantine_failed' && e.vm !== undefined)
      failures.set(e.vm, (failures.get(e.vm) ?? 0) + 1);
  return failures;
}

/** Verbs that leave a VM in service, by VM id: while such a VM is not ready, its verb holds it. */
const RETURNING = new Set(['restart', 'restore', 'update']);

/** The last verb run on each VM that a verb brings back (restart, restore, update), from the events. */
export function verbsInFlight(state: PresetState): ReadonlyMap<string, string> {
  const verbs = new Map<string, string>();
  for (const e of state.events) {
    if (e.type !== 'verb' || e.vm === undefined) continue;
    const verb = e.reason.slice(0, e.reason.indexOf(' '));
    if (RETURNING.has(verb)) verbs.set(e.vm, verb);
    else verbs.delete(e.vm);
  }
  return verbs;
}

/** VMs an operator's verb waits to take out of service (entries past their end are stale: ignored). */
export function verbsWaiting(state: PresetState, now: number): ReadonlySet<string> | undefined {
  if (!state.waiting) return undefined;
  const ids = Object.entries(state.waiting)
    .filter(([, w]) => w.until > now)
    .map(([id]) => id);
  return ids.length > 0 ? new Set(ids) : undefined;
}
