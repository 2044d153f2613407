import type { BeforeTerminateHook } from '../presets/hooks-policy.js';
import type { AfterCreateNote, HookResult, HookWait } from './hook-records.js';
import type { Termination } from './plan-types.js';

// The before_terminate hook's decisions (docs/hooks.md), pure: which planned terminations go now, which
// wait (`terminating:wait`), which notices are due, and what an answer or a heartbeat changes. The I/O
// (POSTing notices) is in hook-gate.ts.

export type { AfterCreateNote, HookResult, HookWait } from './hook-records.js';
export type HookAnswer = HookResult | 'heartbeat';
export const HOOK_ANSWERS: readonly HookAnswer[] = ['continue', 'abandon', 'heartbeat'];

/** The lifecycle shown for a VM whose termination waits for its before_terminate hook. */
export const TERMINATING_WAIT = 'terminating:wait' as const;

/** A termination let through, and why: no hook needed, answered, or timed out (the default applies). */
export interface HookRelease {
  termination: Termination;
  via: 'exempt' | 'answered' | 'timed_out';
  result?: HookResult;
}

export interface HookGateDecision {
  go: HookRelease[];
  /** Terminations that wait for their hook (not carried out in this manage). */
  hold: Termination[];
  /** Notices to POST now: new waits, and deliveries that failed before whose retry is due. */
  send: string[];
  /** Waits after this decision: new ones added, those of VMs no longer to be terminated dropped. */
  waits: Record<string, HookWait>;
  /** VMs whose wait was dropped: the plan no longer terminates them. */
  cancelled: string[];
}

/** A VM already dead serves nobody: its removal does not wait for a hook. */
export function needsHook(t: Termination): boolean {
  return t.class !== 'dead';
}

/** Retry of a failed delivery: 5 s, 10 s, 20 s... at most 60 s (the wait's deadline still runs). */
export function retryDelayMs(attempts: number): number {
  return Math.min(60_000, 5000 * 2 ** Math.max(0, attempts - 1));
}

/**
 * Sorts the planned terminations of a preset with a before_terminate hook. `newId` names a new notice.
 * Waits of VMs the plan no longer terminates are dropped (a scale-in undone, a VM recovered).
 */
export function decideHooks(
  hook: BeforeTerminateHook,
  planned: readonly Termination[],
  waits: Readonly<Record<string, HookWait>>,
  now: number,
  newId: (vm: string) => string,
): HookGateDecision {
  const d: HookGateDecision = { go: [], hold: [], send: [], waits: {}, cancelled: [] };
  const plannedIds = new Set<string>();
  for (const t of planned) {
    plannedIds.add(t.vmId);
    if (!needsHook(t)) {
      d.go.push({ termination: t, via: 'exempt' });
      continue;
    }
    const w = waits[t.vmId];
    if (!w) {
      d.waits[t.vmId] = {
        id: newId(t.vmId),
        class: t.class,
        reason: t.reason,
        since: now,
        deadline: now + hook.timeoutMs,
        attempts: 0,
      };
      d.hold.push(t);
      d.send.push(t.vmId);
      continue;
    }
    d.waits[t.vmId] = w;
    if (w.answer) d.go.push({ termination: t, via: 'answered', result: w.answer.result });
    else if (now >= w.deadline) d.go.push({ termination: t, via: 'timed_out', result: hook.defaultResult });
    else {
      d.hold.push(t);
      if (w.delivered === undefined && (w.retryAt ?? 0) <= now) d.send.push(t.vmId);
    }
  }
  for (const id of Object.keys(waits)) if (!plannedIds.has(id)) d.cancelled.push(id);
  return d;
}

/**
 * A wait after an answer: `continue`/`abandon` settle it (the first answer stands: a later one changes
 * nothing), a heartbeat moves the deadline to now + heartbeat_timeout, never past since + max_wait.
 * Undefined: no change (already answered).
 */
export function answerWait(
  w: HookWait,
  answer: HookAnswer,
  by: string,
  now: number,
  hook: Pick<BeforeTerminateHook, 'heartbeatMs' | 'maxWaitMs'>,
): HookWait | undefined {
  if (w.answer) return undefined;
  if (answer === 'heartbeat') {
    const deadline = Math.min(now + hook.heartbeatMs, w.since + hook.maxWaitMs);
    return { ...w, deadline: Math.max(w.deadline, deadline), heartbeats: (w.heartbeats ?? 0) + 1 };
  }
  return { ...w, answer: { result: answer, by, at: now } };
}

/** A wait after a delivery: taken by the receiver (2xx), or failed with its retry scheduled. */
export function deliveredWait(w: HookWait, ok: boolean, now: number): HookWait {
  const attempts = w.attempts + 1;
  if (ok) {
    const { retryAt: _r, ...rest } = w;
    return { ...rest, attempts, delivered: now };
  }
  return { ...w, attempts, retryAt: now + retryDelayMs(attempts) };
}

/** The waits kept in the saved state: of VMs still listed and not terminated by this manage. */
export function waitsAfter(
  waits: Readonly<Record<string, HookWait>> | undefined,
  vms: readonly { id: string }[],
  terminated: readonly { vmId: string }[],
): { hooks?: Record<string, HookWait> } {
  if (!waits) return {};
  const ids = new Set(vms.map((v) => v.id));
  for (const t of terminated) ids.delete(t.vmId);
  const kept = Object.entries(waits).filter(([id]) => ids.has(id));
  return kept.length > 0 ? { hooks: Object.fromEntries(kept) } : {};
}

/** Deliveries of one after_create notice before it is given up (it never holds anything up). */
export const AFTER_CREATE_TRIES = 5;

/**
 * The after_create notices due now: VMs ready (passing their checks) for the first time, and retries
 * due. The first time a preset has after_create (`notes` undefined), the VMs ready already are taken as
 * notified: only new VMs are announced.
 */
export function afterCreateDue(
  ready: readonly string[],
  notes: Readonly<Record<string, AfterCreateNote>> | undefined,
  now: number,
): { due: string[]; notes: Record<string, AfterCreateNote> } {
  if (notes === undefined)
    return { due: [], notes: Object.fromEntries(ready.map((id) => [id, { attempts: 0, at: now }])) };
  const due: string[] = [];
  const next: Record<string, AfterCreateNote> = { ...notes };
  for (const id of ready) {
    const n = notes[id];
    if (!n || (n.at === undefined && (n.retryAt ?? 0) <= now)) due.push(id);
  }
  return { due, notes: next };
}

/** A note after one delivery: settled when taken or at the last try, else retried with backoff. */
export function afterCreateTried(n: AfterCreateNote | undefined, ok: boolean, now: number): AfterCreateNote {
  const attempts = (n?.attempts ?? 0) + 1;
  if (ok || attempts >= AFTER_CREATE_TRIES) return { attempts, at: now };
  return { attempts, retryAt: now + retryDelayMs(attempts) };
}

/** Notes of VMs still listed (a VM gone takes its note with it); undefined stays undefined. */
export function notesAfter(
  notes: Readonly<Record<string, AfterCreateNote>> | undefined,
  vms: readonly { id: string }[],
): { notified?: Record<string, AfterCreateNote> } {
  if (!notes) return {};
  const ids = new Set(vms.map((v) => v.id));
  return { notified: Object.fromEntries(Object.entries(notes).filter(([id]) => ids.has(id))) };
}

/** How a planned termination stands with the before_terminate hook, for `plan`. */
export interface HookPlan {
  vm: string;
  /** What the next manage does about it, in words (the `plan` line). */
  step: string;
  since?: number;
  deadline?: number;
}

/** Every planned termination and waiting hook as `plan` explains it (pure, as decideHooks sorts them). */
export function hookPlan(
  hook: BeforeTerminateHook,
  planned: readonly Termination[],
  waits: Readonly<Record<string, HookWait>>,
  now: number,
): HookPlan[] {
  const d = decideHooks(hook, planned, waits, now, () => '');
  const at = (ms: number) => new Date(ms).toISOString();
  const out: HookPlan[] = [];
  for (const r of d.go) {
    const vm = r.termination.vmId;
    const w = waits[vm];
    const step =
      r.via === 'exempt'
        ? 'dead: terminated without waiting for before_terminate'
        : r.via === 'answered'
          ? `answered ${r.result} by ${w?.answer?.by}: terminated now`
          : `not answered by ${at(w?.deadline ?? now)}: default ${r.result}, terminated now`;
    out.push({ vm, step, ...(w ? { since: w.since, deadline: w.deadline } : {}) });
  }
  for (const t of d.hold) {
    const w = waits[t.vmId];
    const step = !w
      ? `before_terminate notice sent now; terminating:wait until ${at(now + hook.timeoutMs)} (then ${hook.defaultResult})`
      : `terminating:wait since ${at(w.since)} until ${at(w.deadline)}${w.heartbeats ? ` (${w.heartbeats} heartbeats)` : ''}, then ${hook.defaultResult}; notice ${w.delivered !== undefined ? 'delivered' : `not delivered yet (${w.attempts} tries)`}`;
    out.push({ vm: t.vmId, step, ...(w ? { since: w.since, deadline: w.deadline } : {}) });
  }
  for (const vm of d.cancelled) out.push({ vm, step: 'no longer to be terminated: the wait ends' });
  return out;
}

/**
 * The VMs as an operator's verb admission counts them: a VM waiting for its before_terminate hook is
 * on its way out and holds its room in the disruption budget, so it does not count as ready (pure).
 */
export function withHookWaitsOut<T extends { vm: { id: string }; ready: boolean }>(
  classified: readonly T[],
  waits: Readonly<Record<string, HookWait>> | undefined,
): readonly T[] {
  if (!waits) return classified;
  return classified.map((c) => (c.ready && waits[c.vm.id] ? { ...c, ready: false } : c));
}
