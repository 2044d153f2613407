import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { buildServer } from '../../src/http/server.js';
import { type HookVerification, verifyHookSignature } from '../../src/index.js';
import type { PresetEvent, PresetState } from '../../src/reconcile/state.js';
import { bearer, OPERATE_TOKEN, READ_TOKEN, tokensBlock } from '../helpers/api.js';
import { daemonIn, eventually } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

// Lifecycle hooks end to end (docs/hooks.md): daemons over PostgreSQL and the simulated cloud, notices
// POSTed to a real HTTP receiver that checks them with the helper vmshepherd ships for receivers.

const SECRET = 'hook-secret-5e1d0c7a';
process.env.VMSHEPHERD_HOOK_E2E = SECRET;

const uniq = () => `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const pgSchemas: string[] = [];

interface Notice {
  body: Record<string, unknown>;
  raw: string;
  verified: HookVerification;
}

/** A receiver of notices: verifies each with `secret`, answers 401 when it fails, else `respond`. */
async function receiver(secret: string) {
  const notices: Notice[] = [];
  let respond: (n: Record<string, unknown>) => object = () => ({});
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      const verified = verifyHookSignature(secret, req.headers['x-vmshepherd-signature'] as string, raw);
      const body = JSON.parse(raw) as Record<string, unknown>;
      notices.push({ body, raw, verified });
      if (!verified.ok) {
        res.statusCode = 401;
        res.end();
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(respond(body)));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
  return {
    url,
    notices,
    respondWith(f: typeof respond) {
      respond = f;
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

type Receiver = Awaited<ReturnType<typeof receiver>>;

const settings = (schema: string) => `
${tokensBlock()}
runtime: {driver: PostgresDriver, url: "${inject('pgUrl')}", schema: ${schema}, pool_size: 2}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.001, boot_time: 0.05, state_file: cloud.json}
`;

const presetText = (count: number, hooks: string) => `name: web
count: ${count}
image: img-1
manage_interval: 0
hooks:
${hooks}
`;

const beforeTerminate = (url: string, extra = '') =>
  `  before_terminate: {url: "${url}", secret_env: VMSHEPHERD_HOOK_E2E, timeout: 60${extra}}`;

let daemons: Daemon[] = [];
let apps: FastifyInstance[] = [];
let receivers: Receiver[] = [];
afterEach(async () => {
  for (const a of apps) await a.close();
  for (const d of daemons) await d.stop();
  for (const r of receivers) await r.close();
  daemons = [];
  apps = [];
  receivers = [];
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  for (const s of pgSchemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await client.end();
});

async function start(dir: string): Promise<{ daemon: Daemon; app: FastifyInstance }> {
  const { daemon } = await daemonIn(dir);
  const app = buildServer(daemon);
  await app.ready();
  daemons.push(daemon);
  apps.push(app);
  return { daemon, app };
}

async function newReceiver(secret = SECRET): Promise<Receiver> {
  const r = await receiver(secret);
  receivers.push(r);
  return r;
}

const state = (d: Daemon): Promise<PresetState> => d.presetState('web');
const events = async (d: Daemon, type: PresetEvent['type']) =>
  (await state(d)).events.filter((e) => e.type === type);

/** Two running VMs of `web`, then count 1: the scale-in that waits for the hook. Returns the VM it chose. */
async function scaledIn(
  hooks: string,
): Promise<{ dir: string; daemon: Daemon; app: FastifyInstance; vm: string }> {
  const schema = `t_hooks_${uniq()}`;
  pgSchemas.push(schema);
  const dir = tempDir({ 'settings.yaml': settings(schema), 'presets/web.conf': presetText(2, hooks) });
  const { daemon, app } = await start(dir);
  await eventually(
    async () => {
      await daemon.runOnce();
      return (await state(daemon)).vms.filter((v) => v.state === 'running').length;
    },
    (n) => n === 2,
    15_000,
  );
  writeFileSync(join(dir, 'presets', 'web.conf'), presetText(1, hooks));
  const s = await eventually(
    async () => {
      await daemon.runOnce();
      return state(daemon);
    },
    (st) => Object.keys(st.hooks ?? {}).length === 1,
    15_000,
  );
  const vm = Object.keys(s.hooks ?? {})[0] as string;
  return { dir, daemon, app, vm };
}

const vmIds = async (d: Daemon) => (await state(d)).vms.map((v) => v.id);

async function answer(app: FastifyInstance, vm: string, result: string, token = OPERATE_TOKEN) {
  return app.inject({
    method: 'POST',
    url: `/api/v1/presets/web/vms/${vm}/hook`,
    headers: { ...bearer(token), 'content-type': 'application/json' },
    payload: { result },
  });
}

/** Cycles until the VM is gone from the preset's state. */
async function terminated(d: Daemon, vm: string): Promise<void> {
  await eventually(
    async () => {
      await d.runOnce();
      return vmIds(d);
    },
    (ids) => !ids.includes(vm),
    15_000,
  );
}

describe('before_terminate', () => {
  it('holds a scale-in in terminating:wait until the receiver answers continue through the API', async () => {
    const r = await newReceiver();
    const { daemon, app, vm } = await scaledIn(beforeTerminate(r.url));
    const notice = r.notices.find((n) => n.body.type === 'before_terminate');
    expect(notice?.verified).toEqual({ ok: true });
    expect(notice?.body).toMatchObject({ preset: 'web', vm: { id: vm }, class: 'surplus' });
    expect(notice?.raw).not.toContain(SECRET);
    // Cycles while it waits: the VM stays, shown as terminating:wait, the notice is not sent again.
    for (let i = 0; i < 3; i++) await daemon.runOnce();
    expect(await vmIds(daemon)).toContain(vm);
    const view = await app.inject({
      method: 'GET',
      url: '/api/v1/presets/web/vms',
      headers: bearer(READ_TOKEN),
    });
    const listed = (view.json() as { items?: { id: string; lifecycle: string }[] }).items ?? view.json();
    expect((listed as { id: string; lifecycle: string }[]).find((v) => v.id === vm)?.lifecycle).toBe(
      'terminating:wait',
    );
    expect(r.notices.filter((n) => n.body.type === 'before_terminate')).toHaveLength(1);
    const plan = await daemon.plan('web');
    expect(plan[0]?.hooks?.find((h) => h.vm === vm)?.step).toMatch(/terminating:wait since .* until /);
    // A read token may not answer; an operate token may.
    expect((await answer(app, vm, 'continue', READ_TOKEN)).statusCode).toBe(403);
    const res = await answer(app, vm, 'continue');
    expect(res.statusCode).toBe(202);
    await terminated(daemon, vm);
    expect((await events(daemon, 'hook_answered')).map((e) => [e.vm, e.data?.result])).toEqual([
      [vm, 'continue'],
    ]);
    expect((await events(daemon, 'terminated')).map((e) => e.vm)).toEqual([vm]);
    // The hook is answered and gone: another answer is refused.
    const again = await answer(app, vm, 'continue');
    expect([again.statusCode, again.json().error.code]).toEqual([409, 'api_hook_0001']);
  });

  it("holds an operator's terminate in terminating:wait too, and replaces the VM meanwhile", async () => {
    const r = await newReceiver();
    const schema = `t_hooks_${uniq()}`;
    pgSchemas.push(schema);
    const hooks = beforeTerminate(r.url);
    const dir = tempDir({ 'settings.yaml': settings(schema), 'presets/web.conf': presetText(1, hooks) });
    const { daemon, app } = await start(dir);
    const [vm] = await eventually(
      async () => {
        await daemon.runOnce();
        return (await state(daemon)).vms.filter((v) => v.state === 'running').map((v) => v.id);
      },
      (ids) => ids.length === 1,
      15_000,
    );
    if (!vm) throw new Error('no VM');
    const asked = await app.inject({
      method: 'DELETE',
      url: `/api/v1/presets/web/vms/${vm}`,
      headers: bearer(OPERATE_TOKEN),
    });
    expect(asked.statusCode).toBe(202);
    const task = await eventually(
      async () => {
        await daemon.runOnce();
        return daemon.getTask(asked.json().id);
      },
      (t) => t.state === 'done' || t.state === 'failed',
      15_000,
    );
    expect(task.state).toBe('done');
    expect(task.steps.findLast((st) => st.name === 'terminate')).toMatchObject({
      state: 'skipped',
      note: expect.stringMatching(/before_terminate hook/),
    });
    // The loop holds it for the hook (notice sent once), and a replacement runs beside it.
    const s = await eventually(
      async () => {
        await daemon.runOnce();
        return state(daemon);
      },
      (st) => st.hooks?.[vm] !== undefined && st.vms.some((v) => v.id !== vm && v.state === 'running'),
      15_000,
    );
    expect(s.events.filter((e) => e.type === 'terminate_requested').map((e) => e.vm)).toEqual([vm]);
    for (let i = 0; i < 2; i++) await daemon.runOnce();
    expect(await vmIds(daemon)).toContain(vm);
    const notices = r.notices.filter((n) => n.body.type === 'before_terminate');
    expect(notices.map((n) => [n.verified, (n.body.vm as { id: string }).id])).toEqual([[{ ok: true }, vm]]);
    expect((await answer(app, vm, 'continue')).statusCode).toBe(202);
    await terminated(daemon, vm);
    expect((await events(daemon, 'terminated')).map((e) => e.vm)).toEqual([vm]);
    expect((await state(daemon)).vms.filter((v) => v.state === 'running')).toHaveLength(1);
  });

  it('terminates at once on abandon given in the response, recorded as abandon', async () => {
    const r = await newReceiver();
    r.respondWith((n) => (n.type === 'before_terminate' ? { result: 'abandon' } : {}));
    const schema = `t_hooks_${uniq()}`;
    pgSchemas.push(schema);
    const hooks = beforeTerminate(r.url);
    const dir = tempDir({ 'settings.yaml': settings(schema), 'presets/web.conf': presetText(2, hooks) });
    const { daemon } = await start(dir);
    await eventually(
      async () => {
        await daemon.runOnce();
        return (await state(daemon)).vms.filter((v) => v.state === 'running').length;
      },
      (n) => n === 2,
      15_000,
    );
    writeFileSync(join(dir, 'presets', 'web.conf'), presetText(1, hooks));
    await daemon.runOnce();
    const answered = await events(daemon, 'hook_answered');
    expect(answered.map((e) => [e.data?.result, e.reason])).toEqual([
      ['abandon', expect.stringContaining('abandon by receiver')],
    ]);
    expect((await events(daemon, 'terminated')).map((e) => e.vm)).toEqual([answered[0]?.vm]);
    expect((await state(daemon)).hooks).toBeUndefined();
  });

  it('waits past the timeout while heartbeats extend it, then terminates on the answer', async () => {
    const r = await newReceiver();
    const { daemon, app, vm } = await scaledIn(
      beforeTerminate(r.url, ', timeout: 1, heartbeat_timeout: 120'),
    );
    const before = (await state(daemon)).hooks?.[vm];
    expect((await answer(app, vm, 'heartbeat')).statusCode).toBe(202);
    await daemon.runOnce();
    const after = (await state(daemon)).hooks?.[vm];
    expect(after?.heartbeats).toBe(1);
    expect(after?.deadline).toBeGreaterThan((before?.since ?? 0) + 1000);
    // Past the first deadline, the VM still waits.
    await eventually(
      () => Date.now(),
      (now) => now > (before?.deadline ?? 0) + 200,
      5000,
    );
    await daemon.runOnce();
    expect(await vmIds(daemon)).toContain(vm);
    expect(await events(daemon, 'hook_timed_out')).toEqual([]);
    expect((await answer(app, vm, 'continue')).statusCode).toBe(202);
    await terminated(daemon, vm);
    expect((await events(daemon, 'hook_heartbeat')).map((e) => e.vm)).toEqual([vm]);
  });

  it('applies default_result once the wait times out', async () => {
    const r = await newReceiver();
    const { daemon, vm } = await scaledIn(beforeTerminate(r.url, ', timeout: 1, default_result: abandon'));
    await terminated(daemon, vm);
    const timedOut = await events(daemon, 'hook_timed_out');
    expect(timedOut.map((e) => [e.vm, e.data?.result, e.code])).toEqual([
      [vm, 'abandon', 'reconcile_hook_0002'],
    ]);
  });

  it('a notice signed with another secret is refused by the receiver: retried, never taken', async () => {
    const r = await newReceiver('not-the-secret');
    const { daemon, vm } = await scaledIn(beforeTerminate(r.url));
    expect(r.notices[0]?.verified).toEqual({ ok: false, reason: 'mismatch' });
    const failed = await events(daemon, 'hook_failed');
    expect(failed.map((e) => [e.vm, e.code])).toEqual([[vm, 'reconcile_hook_0001']]);
    expect(failed[0]?.reason).toContain('HTTP 401');
    const wait = (await state(daemon)).hooks?.[vm];
    expect(wait?.delivered).toBeUndefined();
    expect(wait?.retryAt).toBeGreaterThan(wait?.since ?? 0);
    expect(await vmIds(daemon)).toContain(vm);
  });

  it('survives a restart of vmshepherd while a hook waits', async () => {
    const r = await newReceiver();
    const first = await scaledIn(beforeTerminate(r.url));
    const waited = (await state(first.daemon)).hooks?.[first.vm];
    await first.app.close();
    await first.daemon.stop();
    apps = apps.filter((a) => a !== first.app);
    daemons = daemons.filter((d) => d !== first.daemon);
    const { daemon, app } = await start(first.dir);
    await daemon.runOnce();
    const s = await state(daemon);
    expect(s.hooks?.[first.vm]).toMatchObject({
      id: waited?.id,
      since: waited?.since,
      deadline: waited?.deadline,
    });
    expect(s.vms.map((v) => v.id)).toContain(first.vm);
    expect(r.notices.filter((n) => n.body.type === 'before_terminate')).toHaveLength(1);
    expect((await answer(app, first.vm, 'continue')).statusCode).toBe(202);
    await terminated(daemon, first.vm);
    expect((await events(daemon, 'hook_answered')).map((e) => e.vm)).toEqual([first.vm]);
  });
});

describe('after_create', () => {
  it('announces a VM once when it first passes its checks', async () => {
    const r = await newReceiver();
    const schema = `t_hooks_${uniq()}`;
    pgSchemas.push(schema);
    const hooks = `  after_create: {url: "${r.url}", secret_env: VMSHEPHERD_HOOK_E2E}`;
    const dir = tempDir({ 'settings.yaml': settings(schema), 'presets/web.conf': presetText(1, hooks) });
    const { daemon } = await start(dir);
    const notices = await eventually(
      async () => {
        await daemon.runOnce();
        return r.notices.filter((n) => n.body.type === 'after_create');
      },
      (n) => n.length === 1,
      15_000,
    );
    expect(notices[0]?.verified).toEqual({ ok: true });
    const id = (await state(daemon)).vms[0]?.id;
    expect(notices[0]?.body).toMatchObject({ preset: 'web', vm: { id } });
    for (let i = 0; i < 3; i++) await daemon.runOnce();
    expect(r.notices.filter((n) => n.body.type === 'after_create')).toHaveLength(1);
  });
});
