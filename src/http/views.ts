import type { z } from 'zod';
import type {
  budgetView,
  condition,
  eventView,
  PHASES,
  presetDetail,
  presetSummary,
  taskView,
  vmView,
} from '../api/schemas.js';
import type { Task } from '../daemon/tasks.js';
import type { Preset } from '../presets/preset.js';
import { budgetLine } from '../reconcile/disruption-budget.js';
import { TERMINATING_WAIT } from '../reconcile/hooks.js';
import type { PresetState, StatusBudget, VmSnapshot } from '../reconcile/state.js';

export type PresetSummary = z.infer<typeof presetSummary>;
export type PresetDetail = z.infer<typeof presetDetail>;
export type VmView = z.infer<typeof vmView>;
export type EventView = z.infer<typeof eventView>;
type Condition = z.infer<typeof condition>;
export type Phase = (typeof PHASES)[number];

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * What the API and panel show of a preset: built from the preset as compiled and the state its last
 * manage saved (after its actions). Driver options are never read here: they may hold credentials.
 */
export function presetSummaryOf(preset: Preset, state: PresetState): PresetSummary {
  const status = state.status;
  const phase: Phase = state.paused ? 'paused' : (status?.phase ?? 'new');
  // The due time itself, not clamped to now: a summary that changed every millisecond could never be
  // revalidated (ETag) by a client polling the list.
  const next = state.lastManagedAt === null ? null : state.lastManagedAt + preset.manageIntervalMs;
  return {
    name: preset.name,
    // A count that follows demand: the count its last manage decided.
    count: preset.demand ? (state.demand?.count ?? preset.count) : preset.count,
    phase,
    ...(status?.code ? { code: status.code } : {}),
    message: status?.message ?? (state.paused ? `paused by ${state.paused.by}` : 'not managed yet'),
    counts: status?.counts ?? {},
    unhealthy: state.vms.filter((v) => (v.health?.failures ?? 0) > 0).length,
    guard: status?.guard ?? false,
    paused: state.paused !== undefined,
    unmanaged: preset.unmanaged,
    revision: state.revision ?? preset.source.revision,
    lastManagedAt: iso(state.lastManagedAt),
    lastManagedBy: state.lastManagedBy,
    nextManageAt: iso(next),
    ...(status?.budget ? { budget: budgetViewOf(status.budget, state) } : {}),
  };
}

function budgetViewOf(b: StatusBudget, state: PresetState): z.infer<typeof budgetView> {
  return {
    ...b,
    line: budgetLine(b),
    waiting: Object.entries(state.waiting ?? {}).map(([vm, w]) => ({
      vm,
      verb: w.verb,
      by: w.by,
      since: new Date(w.since).toISOString(),
      reason: w.reason,
    })),
  };
}

export function presetDetailOf(preset: Preset, state: PresetState, showUserdata: boolean): PresetDetail {
  return {
    ...presetSummaryOf(preset, state),
    spec: {
      ...(preset.image ? { image: preset.image } : {}),
      ...(preset.flavor ? { flavor: preset.flavor } : {}),
      ...(preset.flavors.length > 1 ? { flavors: preset.flavors } : {}),
      ...(preset.zones.length > 1 ? { zones: preset.zones } : {}),
      ...(preset.keyName ? { keyName: preset.keyName } : {}),
      network: preset.network,
      metaTags: preset.metaTagText,
      panelLinks: preset.panelLinks,
      manageInterval: preset.manageIntervalMs / 1000,
      iaasDriver: preset.iaas.driver,
      healthcheckDriver: preset.healthcheck?.driver ?? null,
      update: { strategy: preset.update.strategy, maxSurge: preset.update.maxSurge },
      specHash: preset.specHash,
      file: preset.source.file,
    },
    conditions: conditionsOf(state),
    ...(showUserdata && preset.userdata !== undefined ? { userdata: preset.userdata } : {}),
  };
}

function conditionsOf(state: PresetState): Condition[] {
  const s = state.status;
  const backoff = Object.entries(state.backoff ?? {});
  return [
    { type: 'Converged', status: s?.phase === 'converged', message: s?.message ?? 'not managed yet' },
    {
      type: 'Paused',
      status: state.paused !== undefined,
      message: state.paused ? `by ${state.paused.by} at ${iso(state.paused.at)}` : 'no',
    },
    {
      type: 'GuardActive',
      status: s?.guard ?? false,
      ...(s?.guard ? { code: 'reconcile_guard_0001' } : {}),
      message: s?.guard ? s.message : 'no',
    },
    {
      type: 'RollingOut',
      status: state.rollout !== undefined,
      ...(state.rollout?.paused ? { code: 'reconcile_rollout_0001' } : {}),
      message: state.rollout
        ? `to spec ${state.rollout.spec}${state.rollout.paused ? `, paused: ${state.rollout.paused.reason}` : ''}`
        : 'no',
    },
    {
      type: 'CreateBackoff',
      status: backoff.length > 0,
      message: backoff.length > 0 ? backoff.map(([k]) => k).join(', ') : 'no',
    },
  ];
}

export function vmViewOf(preset: Preset, state: PresetState, vm: VmSnapshot, now: number): VmView {
  const h = vm.health;
  const ip = vm.ips[0] ?? '';
  return {
    id: vm.id,
    name: vm.name,
    state: vm.state,
    lifecycle: state.hooks?.[vm.id] ? TERMINATING_WAIT : (state.lifecycle?.[vm.id]?.state ?? 'active'),
    ...(vm.providerStatus ? { providerStatus: vm.providerStatus } : {}),
    ips: vm.ips,
    createdAt: vm.createdAt,
    ageSeconds: Math.max(0, Math.round((now - Date.parse(vm.createdAt)) / 1000)),
    ...(vm.specHash ? { specHash: vm.specHash } : {}),
    outdated: vm.specHash !== undefined && vm.specHash !== preset.specHash,
    ...(vm.image ? { image: vm.image } : {}),
    ...(vm.flavor ? { flavor: vm.flavor } : {}),
    ...(vm.fault ? { fault: vm.fault } : {}),
    health: h
      ? {
          verdict: h.verdict,
          failures: h.failures,
          history: h.history,
          ...(h.reason ? { reason: h.reason } : {}),
          ...(h.code ? { code: h.code } : {}),
        }
      : null,
    // The original's rule: the text `ip` in a panel link is replaced by the VM's IP.
    links: Object.fromEntries(
      Object.entries(preset.panelLinks).map(([label, url]) => [label, url.replaceAll('ip', ip)]),
    ),
  };
}

export function eventsOf(preset: string, state: PresetState): EventView[] {
  return state.events.map((e) => ({
    preset,
    at: e.at,
    type: e.type,
    ...(e.vm ? { vm: e.vm } : {}),
    reason: e.reason,
    ...(e.code ? { code: e.code } : {}),
    token: e.token,
    instance: e.instance,
  }));
}

export function taskViewOf(t: Task): z.infer<typeof taskView> {
  const { data: _data, revision: _revision, token: _token, ...view } = t;
  return view;
}
