import { describe, expect, it } from 'vitest';
import { hooksSchema } from '../../src/config/hooks-schema.js';
import { hooksPolicyOf } from '../../src/presets/hooks-policy.js';
import { admitVerb } from '../../src/reconcile/admit-verb.js';
import { disruptionBudget } from '../../src/reconcile/disruption-budget.js';
import { hookAnsweredState } from '../../src/reconcile/hook-answer.js';
import {
  AFTER_CREATE_TRIES,
  afterCreateDue,
  afterCreateTried,
  answerWait,
  decideHooks,
  deliveredWait,
  type HookWait,
  hookPlan,
  waitsAfter,
  withHookWaitsOut,
} from '../../src/reconcile/hooks.js';
import type { Termination } from '../../src/reconcile/plan-types.js';
import { emptyState } from '../../src/reconcile/state.js';
import { signHookBody, verifyHookSignature } from '../../src/util/hook-signature.js';
import { preset, vm } from '../helpers/fixtures.js';

const T = Date.parse('2026-12-01T00:00:00Z');
const hook = {
  url: 'http://127.0.0.1:1/h',
  secretEnv: 'VMSHEPHERD_HOOK_X',
  timeoutMs: 60_000,
  heartbeatMs: 30_000,
  maxWaitMs: 120_000,
  defaultResult: 'abandon' as const,
};
const term = (vmId: string, cls: Termination['class'] = 'surplus'): Termination => ({
  vmId,
  class: cls,
  reason: 'scale-in',
});
const wait = (over: Partial<HookWait> = {}): HookWait => ({
  id: 'n1',
  class: 'surplus',
  reason: 'scale-in',
  since: T,
  deadline: T + 60_000,
  attempts: 1,
  delivered: T,
  ...over,
});
const ids = () => 'new-id';

describe('decideHooks', () => {
  const cases: {
    name: string;
    planned: Termination[];
    waits: Record<string, HookWait>;
    now: number;
    go: [string, string, string?][];
    hold: string[];
    send: string[];
    cancelled?: string[];
  }[] = [
    {
      name: 'a new termination waits and its notice is sent',
      planned: [term('a')],
      waits: {},
      now: T,
      go: [],
      hold: ['a'],
      send: ['a'],
    },
    {
      name: 'a dead VM is terminated without waiting',
      planned: [term('d', 'dead')],
      waits: {},
      now: T,
      go: [['d', 'exempt']],
      hold: [],
      send: [],
    },
    {
      name: 'a delivered wait before its deadline holds, sending nothing',
      planned: [term('a')],
      waits: { a: wait() },
      now: T + 59_999,
      go: [],
      hold: ['a'],
      send: [],
    },
    {
      name: 'an answered wait goes with its answer',
      planned: [term('a')],
      waits: { a: wait({ answer: { result: 'continue', by: 'r', at: T + 5 } }) },
      now: T + 10,
      go: [['a', 'answered', 'continue']],
      hold: [],
      send: [],
    },
    {
      name: 'a wait past its deadline goes with the default result',
      planned: [term('a')],
      waits: { a: wait() },
      now: T + 60_000,
      go: [['a', 'timed_out', 'abandon']],
      hold: [],
      send: [],
    },
    {
      name: 'an undelivered wait is sent again once its retry is due, not before',
      planned: [term('a'), term('b')],
      waits: {
        a: wait({ delivered: undefined, retryAt: T + 5000 }),
        b: wait({ delivered: undefined, retryAt: T + 20_000 }),
      },
      now: T + 5000,
      go: [],
      hold: ['a', 'b'],
      send: ['a'],
    },
    {
      name: 'a wait of a VM the plan no longer terminates is cancelled',
      planned: [],
      waits: { a: wait() },
      now: T,
      go: [],
      hold: [],
      send: [],
      cancelled: ['a'],
    },
  ];
  for (const c of cases)
    it(c.name, () => {
      const d = decideHooks(hook, c.planned, c.waits, c.now, ids);
      expect(d.go.map((r) => [r.termination.vmId, r.via, ...(r.result ? [r.result] : [])])).toEqual(c.go);
      expect(d.hold.map((t) => t.vmId)).toEqual(c.hold);
      expect(d.send).toEqual(c.send);
      expect(d.cancelled).toEqual(c.cancelled ?? []);
      for (const t of [...c.hold]) expect(d.waits[t]).toBeDefined();
      for (const id of c.cancelled ?? []) expect(d.waits[id]).toBeUndefined();
    });

  it('gives a new wait its id, the termination reason and a deadline of now + timeout', () => {
    const d = decideHooks(hook, [term('a')], {}, T, ids);
    expect(d.waits.a).toEqual({
      id: 'new-id',
      class: 'surplus',
      reason: 'scale-in',
      since: T,
      deadline: T + 60_000,
      attempts: 0,
    });
  });
});

describe('answerWait', () => {
  it('settles on continue or abandon; the first answer stands', () => {
    const a = answerWait(wait(), 'abandon', 'tok', T + 1, hook);
    expect(a?.answer).toEqual({ result: 'abandon', by: 'tok', at: T + 1 });
    expect(answerWait(a as HookWait, 'continue', 'tok', T + 2, hook)).toBeUndefined();
  });

  it('moves the deadline by heartbeat_timeout from now, never past since + max_wait, never back', () => {
    const h1 = answerWait(wait(), 'heartbeat', 'r', T + 50_000, hook) as HookWait;
    expect(h1.deadline).toBe(T + 80_000);
    expect(h1.heartbeats).toBe(1);
    const h2 = answerWait(h1, 'heartbeat', 'r', T + 110_000, hook) as HookWait;
    expect(h2.deadline).toBe(T + 120_000);
    const early = answerWait(wait(), 'heartbeat', 'r', T + 1000, hook) as HookWait;
    expect(early.deadline).toBe(T + 60_000);
    expect(h2.answer).toBeUndefined();
  });
});

describe('deliveries', () => {
  it('records a delivery, or schedules a retry with a growing delay', () => {
    const w0 = wait({ attempts: 0, delivered: undefined });
    expect(deliveredWait(w0, true, T + 3)).toMatchObject({ attempts: 1, delivered: T + 3 });
    const f1 = deliveredWait(w0, false, T);
    const f2 = deliveredWait(f1, false, T);
    expect(f1.retryAt).toBe(T + 5000);
    expect(f2.retryAt).toBe(T + 10_000);
    expect(f2.delivered).toBeUndefined();
  });

  it('keeps waits of listed VMs not terminated by this manage', () => {
    const waits = { a: wait(), b: wait(), c: wait() };
    expect(waitsAfter(waits, [{ id: 'a' }, { id: 'b' }], [{ vmId: 'b' }])).toEqual({ hooks: { a: waits.a } });
    expect(waitsAfter({ a: wait() }, [], [])).toEqual({});
    expect(waitsAfter(undefined, [{ id: 'a' }], [])).toEqual({});
  });
});

describe('after_create', () => {
  it('the first time, takes the ready VMs as notified; later announces new ready VMs once', () => {
    const first = afterCreateDue(['a'], undefined, T);
    expect(first.due).toEqual([]);
    const second = afterCreateDue(['a', 'b'], first.notes, T + 1);
    expect(second.due).toEqual(['b']);
    second.notes.b = afterCreateTried(undefined, true, T + 1);
    expect(afterCreateDue(['a', 'b'], second.notes, T + 2).due).toEqual([]);
  });

  it('retries a failed notice after its delay and gives up after the last try', () => {
    let n = afterCreateTried(undefined, false, T);
    expect(afterCreateDue(['a'], { a: n }, T + 1).due).toEqual([]);
    expect(afterCreateDue(['a'], { a: n }, T + 5000).due).toEqual(['a']);
    for (let i = 1; i < AFTER_CREATE_TRIES; i++) n = afterCreateTried(n, false, T);
    expect(n).toEqual({ attempts: AFTER_CREATE_TRIES, at: T });
    expect(afterCreateDue(['a'], { a: n }, T + 10 ** 9).due).toEqual([]);
  });
});

describe('hookAnsweredState', () => {
  const event = (e: object) => ({ ...e, token: 7, instance: 'i' }) as never;
  it('applies an answer with an event, and leaves a state without a waiting hook alone', () => {
    const state = { ...emptyState(), hooks: { a: wait() } };
    const next = hookAnsweredState(state, 'a', 'continue', 'receiver', T + 9, hook, event, 10);
    expect(next.hooks?.a?.answer?.result).toBe('continue');
    expect(next.events.map((e) => [e.type, e.vm])).toEqual([['hook_answered', 'a']]);
    expect(hookAnsweredState(next, 'a', 'abandon', 'r', T + 10, hook, event, 10)).toBe(next);
    expect(hookAnsweredState(state, 'zz', 'continue', 'r', T, hook, event, 10)).toBe(state);
  });
});

describe('hookPlan', () => {
  it('explains every termination and wait in words', () => {
    const plan = hookPlan(
      hook,
      [term('new'), term('w'), term('late'), term('dead', 'dead')],
      { w: wait({ heartbeats: 2, deadline: T + 90_000 }), late: wait(), gone: wait() },
      T + 60_000,
    );
    const by = Object.fromEntries(plan.map((p) => [p.vm, p.step]));
    expect(by.new).toMatch(
      /notice sent now; terminating:wait until 2026-12-01T00:02:00.000Z \(then abandon\)/,
    );
    expect(by.w).toMatch(/until 2026-12-01T00:01:30.000Z \(2 heartbeats\), then abandon; notice delivered/);
    expect(by.late).toMatch(/not answered by .*: default abandon, terminated now/);
    expect(by.dead).toMatch(/^dead: terminated without waiting/);
    expect(by.gone).toMatch(/no longer to be terminated/);
  });
});

describe('hook signatures', () => {
  const body = '{"type":"before_terminate"}';
  it('verifies its own signature, and refuses another secret, another body, an old or absent header', () => {
    const header = signHookBody('s3cret', body, T);
    expect(verifyHookSignature('s3cret', header, body, { nowMs: T + 1000 })).toEqual({ ok: true });
    expect(verifyHookSignature('other', header, body, { nowMs: T })).toEqual({
      ok: false,
      reason: 'mismatch',
    });
    expect(verifyHookSignature('s3cret', header, `${body} `, { nowMs: T })).toMatchObject({
      reason: 'mismatch',
    });
    expect(verifyHookSignature('s3cret', header, body, { nowMs: T + 301_000 })).toMatchObject({
      reason: 'stale',
    });
    expect(verifyHookSignature('s3cret', header, body, { nowMs: T + 301_000, toleranceSec: 600 })).toEqual({
      ok: true,
    });
    expect(verifyHookSignature('s3cret', undefined, body)).toMatchObject({ reason: 'missing' });
    expect(verifyHookSignature('s3cret', 'garbage', body)).toMatchObject({ reason: 'malformed' });
  });

  it('accepts a timestamp moved only with a signature made for it', () => {
    const header = signHookBody('s3cret', body, T);
    const moved = header.replace(/^t=\d+/, `t=${Math.floor(T / 1000) + 100}`);
    expect(verifyHookSignature('s3cret', moved, body, { nowMs: T + 100_000 })).toMatchObject({
      reason: 'mismatch',
    });
  });
});

describe('hooks schema', () => {
  it('compiles defaults and refuses a secret variable outside VMSHEPHERD_HOOK_', () => {
    const parsed = hooksSchema.parse({
      before_terminate: { url: 'http://r/x', secret_env: 'VMSHEPHERD_HOOK_A', timeout: 20 },
    });
    expect(hooksPolicyOf(parsed)).toEqual({
      beforeTerminate: {
        url: 'http://r/x',
        secretEnv: 'VMSHEPHERD_HOOK_A',
        timeoutMs: 20_000,
        heartbeatMs: 20_000,
        maxWaitMs: 2_000_000,
        defaultResult: 'continue',
      },
    });
    expect(
      hooksSchema.safeParse({ before_terminate: { url: 'http://r/x', secret_env: 'OS_PASSWORD' } }).success,
    ).toBe(false);
    expect(
      hooksSchema.safeParse({ after_create: { url: 'ftp://r', secret_env: 'VMSHEPHERD_HOOK_A' } }).success,
    ).toBe(false);
  });
});

describe('withHookWaitsOut', () => {
  it("takes a waiting VM's room from an operator's verb", () => {
    const p = preset({
      count: 3,
      update: { strategy: 'replace', maxSurge: 1, maxUnavailable: 1, minReadyMs: 0 },
    });
    const classified = ['a', 'b', 'c'].map((id) => ({
      vm: vm({ id, state: 'running' }),
      class: 'running' as const,
      reason: '',
      failing: false,
      health: undefined,
      outdated: false,
      ready: true,
    }));
    expect(admitVerb(true, true, disruptionBudget(p, classified))).toEqual({ admit: true });
    const counted = withHookWaitsOut(classified, { a: wait() });
    expect(counted.map((c) => c.ready)).toEqual([false, true, true]);
    expect(admitVerb(true, true, disruptionBudget(p, counted)).admit).toBe(false);
    expect(withHookWaitsOut(classified, undefined)).toBe(classified);
  });
});
