import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Vm } from '../drivers/types.js';
import type { BeforeTerminateHook } from '../presets/hooks-policy.js';
import type { Preset } from '../presets/preset.js';
import { HOOK_SIGNATURE_HEADER, signHookBody } from '../util/hook-signature.js';
import {
  answerWait,
  decideHooks,
  deliveredWait,
  HOOK_ANSWERS,
  type HookAnswer,
  type HookRelease,
  type HookWait,
} from './hooks.js';
import type { Termination } from './plan-types.js';
import type { EventSink, PresetState } from './state.js';

// The before_terminate hook's I/O in a manage (docs/hooks.md): POSTs the notices the pure decision
// (hooks.ts) says are due, applies an answer given at once in the response, and lets through only the
// terminations that need no hook, were answered or timed out.

export interface HookGateContext {
  now: number;
  record: EventSink;
  logger: Logger;
  vms: ReadonlyMap<string, Vm>;
  signal: AbortSignal;
  /** The secret by its variable's name (process.env by default): read when a notice is signed only. */
  secretOf?: (env: string) => string | undefined;
}

export interface HookGateResult {
  /** The terminations to carry out now. */
  go: Termination[];
  /** The waits to save. */
  waits: Record<string, HookWait>;
}

/** The path where a receiver answers (with an operate token). */
export function hookAnswerPath(preset: string, vm: string): string {
  return `/api/v1/presets/${encodeURIComponent(preset)}/vms/${encodeURIComponent(vm)}/hook`;
}

/** Runs the planned terminations of a preset with a before_terminate hook through it. */
export async function gateTerminations(
  preset: Preset,
  hook: BeforeTerminateHook,
  planned: readonly Termination[],
  state: PresetState,
  ctx: HookGateContext,
): Promise<HookGateResult> {
  const d = decideHooks(hook, planned, state.hooks ?? {}, ctx.now, () => randomUUID());
  for (const vm of d.cancelled)
    ctx.record({ type: 'hook_cancelled', vm, reason: 'no longer to be terminated: the wait ends' });
  const waits = d.waits;
  const answeredNow = new Set<string>();
  await Promise.all(
    d.send.map(async (vm) => {
      const w = waits[vm] as HookWait;
      const sent = await postNotice(hook, terminateNotice(preset, hook, vm, w, ctx.vms.get(vm)), ctx);
      let next = deliveredWait(w, sent.ok, ctx.now);
      if (sent.ok) {
        ctx.record({
          type: 'hook_sent',
          vm,
          reason: `before_terminate notice taken by the receiver (${w.class}: ${w.reason}); waits until ${new Date(w.deadline).toISOString()}`,
          data: { id: w.id },
        });
        const answered = sent.answer ? answerWait(next, sent.answer, 'receiver', ctx.now, hook) : undefined;
        if (answered) {
          next = answered;
          if (answered.answer) answeredNow.add(vm);
        }
      } else
        ctx.record({
          type: 'hook_failed',
          vm,
          reason: `before_terminate notice not delivered (${sent.error}); retried from ${new Date(next.retryAt ?? ctx.now).toISOString()}`,
          code: 'reconcile_hook_0001',
        });
      waits[vm] = next;
    }),
  );
  const go: HookRelease[] = [...d.go];
  for (const t of d.hold) {
    const w = waits[t.vmId];
    if (w?.answer && answeredNow.has(t.vmId))
      go.push({ termination: t, via: 'answered', result: w.answer.result });
  }
  // An answer given through the API was recorded when it came (hook-answer.ts); one in the response now.
  for (const r of go)
    if (r.via !== 'answered' || answeredNow.has(r.termination.vmId))
      recordRelease(r, waits[r.termination.vmId], hook, ctx.record);
  return { go: go.map((r) => r.termination), waits };
}

function recordRelease(
  r: HookRelease,
  w: HookWait | undefined,
  hook: BeforeTerminateHook,
  record: EventSink,
): void {
  const vm = r.termination.vmId;
  if (r.via === 'answered' && w?.answer)
    record({
      type: 'hook_answered',
      vm,
      reason: `before_terminate answered ${w.answer.result} by ${w.answer.by}: terminating`,
      data: { id: w.id, result: w.answer.result },
    });
  else if (r.via === 'timed_out' && w)
    record({
      type: 'hook_timed_out',
      vm,
      reason: `before_terminate not answered by ${new Date(w.deadline).toISOString()}: default ${hook.defaultResult}, terminating`,
      code: 'reconcile_hook_0002',
      data: { id: w.id, result: hook.defaultResult },
    });
}

/** The notice of a before_terminate wait, as POSTed. */
function terminateNotice(
  preset: Preset,
  hook: BeforeTerminateHook,
  vmId: string,
  w: HookWait,
  vm: Vm | undefined,
) {
  return {
    type: 'before_terminate',
    id: w.id,
    preset: preset.name,
    vm: { id: vmId, name: vm?.name ?? vmId, ips: vm?.ips ?? [] },
    class: w.class,
    reason: w.reason,
    since: new Date(w.since).toISOString(),
    deadline: new Date(w.deadline).toISOString(),
    heartbeat_timeout: hook.heartbeatMs / 1000,
    default_result: hook.defaultResult,
    answer_path: hookAnswerPath(preset.name, vmId),
  };
}

/** One delivery of a signed notice: 2xx is taken; a JSON body `{"result": …}` answers at once. Never throws. */
export async function postNotice(
  target: { url: string; secretEnv: string; timeoutMs: number },
  notice: object,
  ctx: Pick<HookGateContext, 'now' | 'logger' | 'signal' | 'secretOf'>,
): Promise<{ ok: boolean; answer?: HookAnswer; error?: string }> {
  const secret = (ctx.secretOf ?? ((env) => process.env[env]))(target.secretEnv);
  if (!secret) return { ok: false, error: `${target.secretEnv} is not set` };
  const body = JSON.stringify(notice);
  try {
    const res = await fetch(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        [HOOK_SIGNATURE_HEADER]: signHookBody(secret, body),
      },
      body,
      signal: AbortSignal.any([ctx.signal, AbortSignal.timeout(Math.min(10_000, target.timeoutMs))]),
      redirect: 'error',
    });
    const text = await res.text();
    if (!res.ok) return { ok: false, error: `HTTP ${res.status}` };
    const answer = answerIn(text);
    return answer ? { ok: true, answer } : { ok: true };
  } catch (err) {
    ctx.logger.debug({ url: target.url, err: (err as Error).message }, 'hook delivery failed');
    return { ok: false, error: (err as Error).message };
  }
}

/** The answer in a response body, if it holds one. */
function answerIn(text: string): HookAnswer | undefined {
  try {
    const r = (JSON.parse(text) as { result?: unknown } | null)?.result;
    return HOOK_ANSWERS.includes(r as HookAnswer) ? (r as HookAnswer) : undefined;
  } catch {
    return undefined;
  }
}
