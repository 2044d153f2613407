import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** A preset's status as a manage saved it: the fields its gauges show. */
export interface StatusFigures {
  desired: number;
  counts: Record<string, number>;
  guard: boolean;
}

/** What one manage reports (the loop's ManageOutcome): plain figures, so metrics know no loop. */
export interface ManageFigures {
  preset: string;
  result: string;
  durationMs: number;
  created: number;
  terminated: number;
  failedActions: number;
  lease?: { takenOver: boolean };
  runtimeFailure?: boolean;
  error?: { code: string };
  state?: { status: StatusFigures | null; vms: readonly { health?: { failures: number } }[] };
  /** A count that follows demand: the value the manage read, or that its query failed. */
  demand?: { failed: boolean; value?: number };
}

/** One cloud API call, as the account that made it saw it. */
export interface CloudCallFigures {
  driver: string;
  verb: string;
  ms: number;
  error?: { code: string };
}

/**
 * The daemon's Prometheus metrics, in a registry of its own (not prom-client's global one), so several
 * daemons in one process (tests, benchmarks) never share counters. Served at /metrics by the HTTP server.
 */
export class Metrics {
  readonly registry = new Registry();
  /** What the preset gauges show, by preset: the status and VM list they were set from. */
  private readonly exported = new Map<string, { status: StatusFigures; vms: readonly unknown[] }>();
  private readonly presetDesired = this.gauge('vmshepherd_preset_desired_vms', 'count of the preset', [
    'preset',
  ]);
  private readonly presetVms = this.gauge(
    'vmshepherd_preset_vms',
    'VMs of the preset by state, after the last manage',
    ['preset', 'state'],
  );
  private readonly presetUnhealthy = this.gauge(
    'vmshepherd_preset_unhealthy_vms',
    'VMs failing their health checks',
    ['preset'],
  );
  private readonly presetQuarantined = this.gauge(
    'vmshepherd_quarantined',
    'VMs stopped and kept for a look (healthcheck.quarantine), after the last manage',
    ['preset'],
  );
  private readonly presetGuard = this.gauge(
    'vmshepherd_preset_guard_active',
    '1 while the mass-deletion guard holds',
    ['preset'],
  );
  private readonly demandValue = this.gauge(
    'vmshepherd_demand_value',
    'the last value the demand query of a count that follows demand returned',
    ['preset'],
  );
  private readonly demandUnavailable = this.gauge(
    'vmshepherd_demand_unavailable',
    '1 while the demand query fails and the count is held',
    ['preset'],
  );
  private readonly demandFailures = this.counter(
    'vmshepherd_demand_query_failures_total',
    'failed demand queries (the count was held)',
    ['preset'],
  );
  private readonly manageDuration = new Histogram({
    name: 'vmshepherd_manage_duration_seconds',
    help: 'duration of one manage of one preset',
    labelNames: ['result'],
    buckets: [0.005, 0.02, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });
  private readonly cycleDuration = new Histogram({
    name: 'vmshepherd_cycle_duration_seconds',
    help: 'duration of one cycle (every due preset managed once)',
    buckets: [0.05, 0.25, 1, 2.5, 5, 10, 30, 60, 120],
    registers: [this.registry],
  });
  private readonly actions = this.counter('vmshepherd_actions_total', 'VM actions by type and outcome', [
    'action',
    'outcome',
  ]);
  private readonly cloudCalls = this.counter('vmshepherd_cloud_calls_total', 'cloud API calls', [
    'driver',
    'verb',
  ]);
  private readonly cloudErrors = this.counter('vmshepherd_cloud_errors_total', 'failed cloud API calls', [
    'driver',
    'verb',
    'code',
  ]);
  private readonly cloudLatency = new Histogram({
    name: 'vmshepherd_cloud_call_duration_seconds',
    help: 'cloud API call duration, limiter wait included',
    labelNames: ['driver', 'verb'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly leaseAcquired = this.counter('vmshepherd_lease_acquisitions_total', 'preset leases taken', [
    'taken_over',
  ]);
  readonly leaseBusy = this.counter(
    'vmshepherd_lease_busy_total',
    'preset leases found held by another instance',
    [],
  );
  readonly leaseLost = this.counter('vmshepherd_lease_losses_total', 'preset leases lost while managing', []);
  readonly runtimeErrors = this.counter('vmshepherd_runtime_errors_total', 'runtime store failures', [
    'code',
  ]);
  readonly presetProblems = this.gauge('vmshepherd_preset_problems', 'preset files in error (by code)', [
    'code',
  ]);
  readonly presets = this.gauge('vmshepherd_presets', 'presets managed by the configuration', []);
  /** The fleet-wide guard: this instance's checked and failing VMs, and 1 while it holds. */
  readonly fleetChecked = this.gauge(
    'vmshepherd_fleet_checked_vms',
    'health-checked VMs of this instance',
    [],
  );
  readonly fleetFailing = this.gauge(
    'vmshepherd_fleet_failing_vms',
    'health-checked VMs of this instance failing their checks now',
    [],
  );
  readonly fleetGuard = this.gauge(
    'vmshepherd_fleet_guard_active',
    '1 while more than manage.max_unhealthy_fleet of the checked VMs fail: no VM is terminated for health',
    [],
  );

  private readonly httpRequests = this.counter('vmshepherd_http_requests_total', 'HTTP requests served', [
    'method',
    'route',
    'status',
  ]);
  private readonly httpDuration = new Histogram({
    name: 'vmshepherd_http_request_duration_seconds',
    help: 'HTTP request duration (API, JSON-RPC, panel)',
    labelNames: ['route'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5],
    registers: [this.registry],
  });
  private readonly lockWaits = this.counter(
    'vmshepherd_lock_waits_total',
    'disruptive calls deferred because an infrastructure lock had no free slot, by level',
    ['level'],
  );
  private readonly lockWaitingNow = this.gauge(
    'vmshepherd_lock_waiting',
    'disruptive calls deferred by the last manage of each preset for an infrastructure lock, by level',
    ['level'],
  );
  /** Deferrals of each preset's last manage, summed into lockWaitingNow. */
  private readonly waitingByPreset = new Map<string, Readonly<Record<string, number>>>();
  /** Every lock level seen waiting: their gauges go back to 0, not away, when the waits end. */
  private readonly levelsSeen = new Set<string>();
  readonly verbTasks = this.counter(
    'vmshepherd_verb_tasks_total',
    'tasks (verbs and operator actions) by verb and outcome',
    ['verb', 'state'],
  );

  /** One HTTP request, by route pattern (never the raw URL: ids would explode the series). */
  private readonly httpPacedRequests = this.counter(
    'vmshepherd_http_paced_requests_total',
    'HTTP requests that waited for their turn (delayed) or were refused (refused) while a cycle ran',
    ['outcome'],
  );

  httpPaced(outcome: 'delayed' | 'refused'): void {
    this.httpPacedRequests.inc({ outcome });
  }

  httpRequest(method: string, route: string, status: number, seconds: number): void {
    this.httpRequests.inc({ method, route, status: String(status) });
    this.httpDuration.observe({ route }, seconds);
  }

  manage(outcome: ManageFigures): void {
    this.manageDuration.observe({ result: outcome.result }, outcome.durationMs / 1000);
    if (outcome.result === 'leased_elsewhere') this.leaseBusy.inc();
    if (outcome.lease) this.leaseAcquired.inc({ taken_over: String(outcome.lease.takenOver) });
    if (outcome.runtimeFailure && outcome.error) this.runtimeErrors.inc({ code: outcome.error.code });
    if (outcome.error?.code === 'runtime_lease_0001') this.leaseLost.inc();
    if (outcome.created) this.actions.inc({ action: 'create', outcome: 'ok' }, outcome.created);
    if (outcome.terminated) this.actions.inc({ action: 'terminate', outcome: 'ok' }, outcome.terminated);
    if (outcome.failedActions) this.actions.inc({ action: 'any', outcome: 'failed' }, outcome.failedActions);
    if (outcome.demand) this.demand(outcome.preset, outcome.demand);
    const state = outcome.state;
    const status = state?.status;
    if (!state || !status) return;
    const preset = outcome.preset;
    const last = this.exported.get(preset);
    // A steady preset keeps its status and VM list objects from cycle to cycle: nothing to set again.
    // prom-client replaces a series' entry, labels and key on every set, and at 10,000 presets those
    // would otherwise be left behind in the old generation every cycle.
    if (last && last.status === status && last.vms === state.vms) return;
    this.presetDesired.set({ preset }, status.desired);
    // prom-client removes a series only by all its labels: the states the preset no longer has, one by one.
    if (last)
      for (const s in last.status.counts)
        if (!(s in status.counts)) this.presetVms.remove({ preset, state: s });
    for (const s in status.counts) this.presetVms.set({ preset, state: s }, status.counts[s] ?? 0);
    let unhealthy = 0;
    for (const v of state.vms) if ((v.health?.failures ?? 0) > 0) unhealthy++;
    this.presetUnhealthy.set({ preset }, unhealthy);
    this.presetGuard.set({ preset }, status.guard ? 1 : 0);
    this.presetQuarantined.set({ preset }, status.counts.quarantined ?? 0);
    this.exported.set(preset, { status, vms: state.vms });
  }

  private demand(preset: string, d: { failed: boolean; value?: number }): void {
    this.demandUnavailable.set({ preset }, d.failed ? 1 : 0);
    if (d.failed) this.demandFailures.inc({ preset });
    if (d.value !== undefined) this.demandValue.set({ preset }, d.value);
  }

  lockWait(level: string): void {
    this.lockWaits.inc({ level });
  }

  /** The deferrals of a preset's last manage (undefined: none), summed over presets per level. */
  lockWaiting(preset: string, waits: Readonly<Record<string, number>> | undefined): void {
    if (!waits && !this.waitingByPreset.has(preset)) return; // the steady state sets nothing
    if (waits) this.waitingByPreset.set(preset, waits);
    else this.waitingByPreset.delete(preset);
    for (const level of Object.keys(waits ?? {})) this.levelsSeen.add(level);
    for (const level of this.levelsSeen) {
      let sum = 0;
      for (const w of this.waitingByPreset.values()) sum += w[level] ?? 0;
      this.lockWaitingNow.set({ level }, sum);
    }
  }

  /** Forgets the series of presets that are no longer configured. */
  forgetPreset(preset: string): void {
    for (const g of [this.presetDesired, this.presetUnhealthy, this.presetGuard, this.presetQuarantined])
      g.remove({ preset });
    for (const m of [this.demandValue, this.demandUnavailable, this.demandFailures]) m.remove({ preset });
    this.lockWaiting(preset, undefined);
    const last = this.exported.get(preset);
    if (last) for (const state in last.status.counts) this.presetVms.remove({ preset, state });
    this.exported.delete(preset);
  }

  cycle(summary: { durationMs: number }): void {
    this.cycleDuration.observe(summary.durationMs / 1000);
  }

  cloudCall(e: CloudCallFigures): void {
    this.cloudCalls.inc({ driver: e.driver, verb: e.verb });
    this.cloudLatency.observe({ driver: e.driver, verb: e.verb }, e.ms / 1000);
    if (e.error) this.cloudErrors.inc({ driver: e.driver, verb: e.verb, code: e.error.code });
  }

  private gauge<L extends string>(name: string, help: string, labelNames: L[]) {
    return new Gauge<L>({ name, help, labelNames, registers: [this.registry] });
  }

  private counter<L extends string>(name: string, help: string, labelNames: L[]) {
    return new Counter<L>({ name, help, labelNames, registers: [this.registry] });
  }
}
