import { META_SPEC } from '../drivers/types.js';
import { type Preset, resolveCountOrPercent } from '../presets/preset.js';
import type { ClassifiedVm } from './classify.js';

/** Who holds a VM out of service. */
export type BudgetUser = 'verb' | 'rollout' | 'remediation' | 'scale-in' | 'healing' | 'booting';

/** One VM out of service, and who took it out (`what`: the verb, the step, or the class). */
export interface BudgetHolder {
  vm: string;
  user: BudgetUser;
  what: string;
}

/**
 * A preset's disruption budget: one `update.max_unavailable` shared by everything that takes a VM out of
 * service (a rollout, remediation steps, scale-in, an operator's verbs), so that together they never take
 * more out than it allows.
 */
export interface DisruptionBudget {
  /** The preset's `count`, and its ready VMs now. */
  count: number;
  ready: number;
  /** `update.max_unavailable`, resolved against `count`. */
  limit: number;
  /** Of `count`, how many are not served by a ready VM now: count - ready (never below 0). */
  unavailable: number;
  /**
   * Ready VMs that may be taken out now: ready - (count - limit), never below 0. Ready VMs above `count`
   * (a rollout's surge) add to it: that is how a rollout proceeds at max_unavailable 0.
   */
  room: number;
  /** The VMs that make `unavailable`, at most that many, causes first (see HOLDER_ORDER). */
  holders: BudgetHolder[];
  /** Of `unavailable`, slots no listed VM holds (a VM deleted and gone, its replacement not yet created). */
  missing: number;
}

const NO_HOLDERS: BudgetHolder[] = Object.freeze([]) as unknown as BudgetHolder[];

/** Hints the classification cannot give: the last verb run on a VM (from the preset's events). */
export interface BudgetHints {
  verbs?: ReadonlyMap<string, string>;
}

/**
 * The order in which out-of-service VMs are named: what took a VM out before the new VMs that fill in
 * for one (a replacement still booting holds the slot its predecessor left).
 */
const HOLDER_ORDER: readonly BudgetUser[] = [
  'verb',
  'rollout',
  'remediation',
  'scale-in',
  'healing',
  'booting',
];

/**
 * The budget now, from the classified VMs (pure). Ready VMs are counted as the planner counts them:
 * serving (not expiring, not scrubbing, not doomed nor being deleted) and ready (`update.min_ready`).
 * A quiesced VM still counts towards `count` but not as ready: it holds the budget, held by its verb.
 */
export function disruptionBudget(
  preset: Preset,
  vms: readonly ClassifiedVm[],
  hints: BudgetHints = {},
): DisruptionBudget {
  const count = preset.count;
  const limit = resolveCountOrPercent(preset.update.maxUnavailable, count, 'down');
  let ready = 0;
  let out: BudgetHolder[] | undefined;
  // While outdated VMs remain, a new VM not ready yet stands in for one the rollout took out.
  const rolling = preset.update.strategy !== 'on_delete' && vms.some((v) => v.outdated);
  for (const v of vms) {
    if (v.ready && v.class !== 'expiring') ready++;
    else {
      const h = holderOf(preset, v, hints, rolling);
      if (h) {
        out ??= [];
        out.push(h);
      }
    }
  }
  const unavailable = Math.max(0, count - ready);
  const room = Math.max(0, ready - (count - limit));
  // The steady state (every VM ready) allocates no list of holders: one shared empty list.
  if (unavailable === 0 || out === undefined)
    return { count, ready, limit, unavailable, room, holders: NO_HOLDERS, missing: unavailable };
  const holders = out
    .map((h, i) => ({ h, i }))
    .sort((a, b) => HOLDER_ORDER.indexOf(a.h.user) - HOLDER_ORDER.indexOf(b.h.user) || a.i - b.i)
    .slice(0, unavailable)
    .map(({ h }) => h);
  return { count, ready, limit, unavailable, room, holders, missing: unavailable - holders.length };
}

/** Who holds a VM that is not ready, or null when it holds nothing (an expiring VM's replacement serves). */
function holderOf(
  preset: Preset,
  v: ClassifiedVm,
  hints: BudgetHints,
  rolling: boolean,
): BudgetHolder | null {
  const vm = v.vm.id;
  const outdated = v.vm.metadata[META_SPEC] !== undefined && v.vm.metadata[META_SPEC] !== preset.specHash;
  switch (v.class) {
    case 'quiesced':
      return { vm, user: 'verb', what: 'quiesce' };
    case 'scrubbing':
    case 'scrubbed':
      return { vm, user: 'verb', what: 'scrub' };
    case 'unhealthy':
      return { vm, user: 'remediation', what: `unhealthy, step ${(v.health?.remedied ?? 0) + 1}` };
    case 'dead':
    case 'stuck':
    case 'expired':
    case 'quarantined':
    case 'quarantine_expired':
      return { vm, user: 'healing', what: v.class };
    case 'terminating':
      return { vm, user: 'verb', what: 'terminate' };
    case 'deleting':
      if (v.vm.state === 'terminated' || v.vm.state === 'stopped' || v.vm.state === 'error')
        return { vm, user: 'healing', what: 'deleting' };
      return outdated ? { vm, user: 'rollout', what: 'replace' } : { vm, user: 'scale-in', what: 'deleting' };
    case 'expiring':
      return null;
    case 'pending':
      return { vm, user: rolling && !outdated ? 'rollout' : 'booting', what: rolling ? 'new VM' : 'pending' };
    default: {
      // Running or unknown but not ready: in the middle of a verb, an in-place update or a remedy, or new.
      const verb = hints.verbs?.get(vm);
      if (verb !== undefined) return { vm, user: 'verb', what: verb };
      if (outdated && v.class === 'unknown') return { vm, user: 'rollout', what: 'in place' };
      if ((v.health?.remedied ?? 0) > 0)
        return { vm, user: 'remediation', what: `step ${v.health?.remedied}` };
      if (rolling && !outdated) return { vm, user: 'rollout', what: 'new VM' };
      return { vm, user: 'booting', what: v.class === 'unknown' ? 'unknown' : 'not ready yet' };
    }
  }
}

/** `1 of 1 unavailable (verb scrub: vm-3), room 0`, as `plan` and the status show it. */
export function budgetLine(
  b: Pick<DisruptionBudget, 'limit' | 'unavailable' | 'room' | 'missing'> & {
    holders: readonly { vm: string; user: string; what: string }[];
  },
): string {
  const who = b.holders.map((h) => `${h.user} ${h.what}: ${h.vm}`);
  if (b.missing > 0) who.push(`${b.missing} not yet replaced`);
  return `${b.unavailable} of ${b.limit} unavailable${who.length ? ` (${who.join('; ')})` : ''}, room ${b.room}`;
}
