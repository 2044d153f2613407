import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import { API_CLOUD_CONCURRENCY } from '../../src/api/cloud-budget.js';
import { REST_ROUTES } from '../../src/api/rest-routes.js';
import { presetDetail, presetPage, taskView, vmView } from '../../src/api/schemas.js';
import { simulatedClouds } from '../../src/drivers/iaas/dummy/driver.js';
import {
  type ApiFixture,
  apiFixture,
  bearer,
  HC_SECRET,
  OPERATE_TOKEN,
  PRESETS,
  READ_TOKEN,
  settings,
  tokensBlock,
  USERDATA_SECRET,
} from '../helpers/api.js';
import { afterCycle, cloudVms, eventually, running, taskEnded } from '../helpers/daemon.js';

const FIXTURE_PRESET = {
  'plain.conf':
    'name: plain\ncount: 1\nimage: img-1\nmanage_interval: 0\niaas: {driver: FixtureCloudDriver, region: verbs}\n',
};

async function converge(f: ApiFixture) {
  await eventually(
    afterCycle(f.daemon, () => cloudVms()),
    (m) => running(m.get('web')) === 3 && running(m.get('db')) === 1,
    15_000,
  );
  await f.daemon.runCycle();
}

type Who = 'none' | 'read' | 'operate';
const TOKENS: Record<Who, string | undefined> = { none: undefined, read: READ_TOKEN, operate: OPERATE_TOKEN };

/** Every read route, as called in the matrix (one concrete URL per route of the table). */
const READS = [
  '/api/v1/presets',
  '/api/v1/presets?q=we&phase=converged',
  '/api/v1/presets/web',
  '/api/v1/presets/web/vms',
  '/api/v1/events?preset=web&limit=5',
  '/api/v1/tasks',
  '/metrics',
  '/',
  '/tasks',
  '/presets/web',
];

describe('HTTP API with tokens (reads need a token)', () => {
  let f: ApiFixture;
  const call = (method: string, url: string, who: Who = 'operate', payload?: unknown) =>
    f.app.inject({
      method: method as 'GET',
      url,
      headers: bearer(TOKENS[who]),
      ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
    });
  const vmsOf = async (preset: string) =>
    z.array(vmView).parse((await call('GET', `/api/v1/presets/${preset}/vms`)).json());

  beforeAll(async () => {
    f = await apiFixture(settings(tokensBlock()), { ...PRESETS, ...FIXTURE_PRESET });
    await f.daemon.refreshPresets();
    await converge(f);
  });
  afterAll(() => f?.close());

  it.each(READS)('GET %s: 401 without a token, 200 with a read or an operate token', async (url) => {
    const anonymous = await call('GET', url, 'none');
    if (url.startsWith('/api') || url === '/metrics') {
      expect(anonymous.statusCode).toBe(401);
      expect(anonymous.json().error.code).toBe('api_auth_0001');
      expect(anonymous.headers['www-authenticate']).toContain('Bearer');
    } else {
      expect(anonymous.statusCode).toBe(303); // the panel sends a browser to sign in
      expect(anonymous.headers.location).toBe('/login');
    }
    for (const who of ['read', 'operate'] as const)
      expect((await call('GET', url, who)).statusCode).toBe(200);
    const wrong = await f.app.inject({
      method: 'GET',
      url: '/api/v1/presets',
      headers: bearer('not-a-token'),
    });
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json().error.code).toBe('api_auth_0002');
  });

  const MUTATIONS: [string, string][] = [
    ['POST', '/api/v1/presets/web/manage'],
    ['POST', '/api/v1/presets/web/pause'],
    ['POST', '/api/v1/presets/web/resume'],
    ['DELETE', '/api/v1/presets/web/vms/VMID'],
    ...(['quiesce', 'restart', 'scrub', 'restore', 'update'].map((v) => [
      'POST',
      `/api/v1/presets/web/vms/VMID/${v}`,
    ]) as [string, string][]),
  ];

  it.each(MUTATIONS)(
    '%s %s: 401 without a token, 403 with a read token, and nothing happens',
    async (method, url) => {
      const [vm] = await vmsOf('web');
      const u = url.replace('VMID', vm!.id);
      const before = await f.daemon.presetState('web');
      const none = await call(method, u, 'none');
      expect(none.statusCode).toBe(401);
      expect(none.json().error.code).toBe('api_auth_0001');
      const read = await call(method, u, 'read');
      expect(read.statusCode).toBe(403);
      expect(read.json().error).toMatchObject({ code: 'api_auth_0003' });
      expect((await f.daemon.presetState('web')).events).toEqual(before.events);
      // A cookie alone (what a forged cross-site form would carry) does not act either.
      const cookie = await f.app.inject({
        method: method as 'POST',
        url: u,
        headers: { cookie: `vmshepherd_token=${OPERATE_TOKEN}` },
      });
      expect(cookie.statusCode).toBe(401);
    },
  );

  it('lists presets with status at a glance, and one preset with spec, conditions and VMs', async () => {
    const page = presetPage.parse((await call('GET', '/api/v1/presets', 'read')).json());
    expect(page).toMatchObject({ total: 4, next: null });
    const list = page.items;
    expect(list.map((p) => p.name)).toEqual(['db', 'plain', 'probe', 'web']);
    const web = list.find((p) => p.name === 'web')!;
    expect(web).toMatchObject({ count: 3, phase: 'converged', paused: false });
    expect(web.counts.running).toBe(3);
    // The disruption budget as the last manage found it: nothing out, nothing waiting.
    expect(web.budget).toMatchObject({ limit: 0, unavailable: 0, holders: [], waiting: [] });
    expect(web.budget?.line).toMatch(/^0 of 0 unavailable, room \d$/);
    expect((await call('GET', '/presets/web', 'read')).body).toContain('<dd id="budget">0 of 0 unavailable');
    expect(
      (await call('GET', '/api/v1/presets?q=DB', 'read')).json().items.map((p: { name: string }) => p.name),
    ).toEqual(['db']);
    const detail = presetDetail.parse((await call('GET', '/api/v1/presets/web', 'read')).json());
    expect(detail.spec).toMatchObject({
      image: 'img-1',
      iaasDriver: 'DummyIaasDriver',
      metaTags: { team: 'storefront', tier: '2', public: 'true' }, // as in VM metadata
    });
    expect(detail.conditions.find((c) => c.type === 'Converged')?.status).toBe(true);
    expect(detail.userdata).toBeUndefined(); // read token: no rendered userdata
    const asOperator = presetDetail.parse((await call('GET', '/api/v1/presets/web', 'operate')).json());
    expect(asOperator.userdata).toContain(USERDATA_SECRET);
    const vms = await vmsOf('web');
    expect(vms).toHaveLength(3);
    expect(vms[0]).toMatchObject({ state: 'running', lifecycle: 'active', outdated: false });
    expect(vms[0]!.links.status).toBe(`http://${vms[0]!.ips[0]}:8080/status`);
    expect(vms[0]!.health?.history).toMatch(/^h+$/);
    const missing = await call('GET', '/api/v1/presets/nope', 'read');
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('cli_preset_1001');
    const bad = await call('GET', '/api/v1/events?limit=0', 'read');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe('api_request_0001');
    expect((await call('GET', '/api/v1/nothing', 'read')).json().error.code).toBe('api_request_0002');
  });

  it('terminates a VM of the named preset only, as a task under the lease with an event; the loop replaces it', async () => {
    const [victim] = await vmsOf('web');
    const [dbVm] = await vmsOf('db');
    const wrong = await call('DELETE', `/api/v1/presets/web/vms/${dbVm!.id}`);
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json().error.code).toBe('vm_verb_0002');
    expect(
      cloudVms()
        .get('db')!
        .some((v) => v.id === dbVm!.id && v.state === 'running'),
    ).toBe(true);
    const res = await call('DELETE', `/api/v1/presets/web/vms/${victim!.id}`);
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ verb: 'terminate', vm: victim!.id, state: 'queued', by: 'ops' });
    expect(await taskEnded(f.daemon, res.json().id)).toMatchObject({ state: 'done' });
    const state = await f.daemon.presetState('web');
    const event = state.events.find((e) => e.type === 'terminated' && e.vm === victim!.id)!;
    expect(event).toMatchObject({ reason: 'terminated by ops', task: res.json().id });
    expect(event.token).toBeGreaterThan(0);
    expect(
      cloudVms()
        .get('web')!
        .some((v) => v.id === victim!.id && v.state === 'running'),
    ).toBe(false);
    await eventually(
      afterCycle(f.daemon, () => cloudVms().get('web')),
      (v) => running(v) === 3,
      10_000,
    );
    const events = (await call('GET', `/api/v1/events?preset=web&vm=${victim!.id}`, 'read')).json();
    expect(events[0]).toMatchObject({ type: 'terminated', preset: 'web' });
  });

  it('pause holds every action of the loop until resume', async () => {
    const paused = await call('POST', '/api/v1/presets/db/pause');
    expect(paused.statusCode).toBe(202);
    expect(paused.json()).toMatchObject({ preset: 'db', verb: 'pause', state: 'queued' });
    expect(await taskEnded(f.daemon, paused.json().id)).toMatchObject({ state: 'done' });
    const [vm] = cloudVms().get('db')!;
    await simulatedClouds()[0]!.terminate(vm!.id); // the VM dies behind vmshepherd's back
    for (let i = 0; i < 3; i++) await f.daemon.runCycle();
    expect(running(cloudVms().get('db'))).toBe(0); // not replaced while paused
    const summary = (await call('GET', '/api/v1/presets?q=db', 'read')).json().items[0];
    expect(summary).toMatchObject({ phase: 'paused', paused: true });
    expect(summary.message).toContain('paused by ops');
    const resumed = await call('POST', '/api/v1/presets/db/resume');
    expect(resumed.statusCode).toBe(202);
    await taskEnded(f.daemon, resumed.json().id);
    expect((await call('GET', '/api/v1/presets?q=db', 'read')).json().items[0].phase).not.toBe('paused');
    await eventually(
      afterCycle(f.daemon, () => cloudVms().get('db')),
      (v) => running(v) === 1,
      10_000,
    );
    const types = (await f.daemon.presetState('db')).events.map((e) => e.type);
    expect(types).toEqual(expect.arrayContaining(['paused', 'resumed', 'created']));
  });

  it('manage now answers with its task at once, which ends with what the manage did', async () => {
    const res = await call('POST', '/api/v1/presets/web/manage');
    expect(res.statusCode).toBe(202);
    expect(res.json()).toMatchObject({ preset: 'web', verb: 'manage', state: 'queued' });
    expect(res.json().vm).toBeUndefined();
    const done = await taskEnded(f.daemon, res.json().id);
    expect(done).toMatchObject({ state: 'done' });
    expect(done.steps.at(-1)).toMatchObject({
      name: 'manage',
      state: 'done',
      note: expect.stringMatching(/created/),
    });
    expect((await call('POST', '/api/v1/presets/nope/manage')).statusCode).toBe(404);
  });

  it('runs verbs as tasks: 202 at once, then visible until done; illegal and unknown requests get their codes', async () => {
    const [vm] = await vmsOf('web');
    const res = await call('POST', `/api/v1/presets/web/vms/${vm!.id}/quiesce`);
    expect(res.statusCode).toBe(202);
    const task = taskView.parse(res.json());
    expect(task).toMatchObject({ state: 'queued', verb: 'quiesce', by: 'ops', vm: vm!.id });
    await taskEnded(f.daemon, task.id);
    const done = taskView.parse((await call('GET', `/api/v1/tasks/${task.id}`, 'read')).json());
    expect(done.state).toBe('done');
    expect((await call('GET', '/api/v1/tasks?preset=web', 'read')).json()[0].id).toBe(task.id);
    await f.daemon.runCycle();
    expect((await vmsOf('web')).find((v) => v.id === vm!.id)?.lifecycle).toBe('quiesced');
    const illegal = await call('POST', `/api/v1/presets/web/vms/${vm!.id}/restore`);
    expect(illegal.statusCode).toBe(409);
    expect(illegal.json().error.code).toBe('vm_verb_0001');
    const back = await call('POST', `/api/v1/presets/web/vms/${vm!.id}/restart`);
    expect(back.statusCode).toBe(202);
    await taskEnded(f.daemon, back.json().id);
    const unknownVerb = await call('POST', `/api/v1/presets/web/vms/${vm!.id}/explode`);
    expect(unknownVerb.statusCode).toBe(400);
    expect(unknownVerb.json().error.code).toBe('api_request_0001');
    const unknownVm = await call('POST', '/api/v1/presets/web/vms/no-such-vm/quiesce');
    expect(unknownVm.statusCode).toBe(404);
    expect(unknownVm.json().error.code).toBe('vm_verb_0002');
    expect((await call('GET', '/api/v1/tasks/nope', 'read')).json().error.code).toBe('api_task_0001');
    // A driver without stop: not implemented.
    const [plainVm] = await vmsOf('plain');
    const notImpl = await call('POST', `/api/v1/presets/plain/vms/${plainVm!.id}/quiesce`);
    expect(notImpl.statusCode).toBe(501);
    expect(notImpl.json().error.code).toBe('iaas_verb_1001');
  });

  it("answers the original's JSON-RPC methods with their shapes", async () => {
    const rpc = async (method: string, params?: unknown, who: Who = 'read') =>
      (await call('POST', '/api', who, { jsonrpc: '2.0', method, params, id: 7 })).json();
    expect((await rpc('list_presets')).result).toEqual(['db', 'plain', 'probe', 'web']);
    // Tags keep their YAML types, as the original returned them.
    const tags = { team: 'storefront', tier: 2, public: true };
    expect((await rpc('list_presets_with_tags')).result.web).toEqual(tags);
    expect((await rpc('get_preset_tags', { preset: 'web' })).result).toEqual(tags);
    const [count, vms] = (await rpc('list_vms', ['web'])).result;
    expect(count).toBe(3);
    const [id, first] = Object.entries(
      vms as Record<string, { ip: string; state: string; created: string }>,
    )[0]!;
    expect(first).toMatchObject({ state: expect.any(String), ip: '127.0.0.1' });
    expect(Date.parse(first.created)).not.toBeNaN();
    expect((await rpc('get_vm_ip', { preset_name: 'web', vm_id: id })).result).toEqual({ vm_ip: first.ip });
    const meta = (await rpc('get_vm_metadata', { preset: 'web', vm_id: id })).result;
    // The VM's metadata (meta tags as text), its server tags (none here) and its lease, as the original built it.
    expect(meta).toMatchObject({
      team: 'storefront',
      tier: '2',
      tags: [],
      iaas_shutdown: null,
      vmshepherd_preset: 'web',
    });
    const other = await rpc('get_vm_ip', { preset_name: 'db', vm_id: id });
    expect(other.error).toMatchObject({ code: -32000, data: { code: 'vm_verb_0002' } });
    expect((await rpc('nope')).error).toMatchObject({ code: -32601 });
    expect((await rpc('get_preset_tags', {})).error).toMatchObject({ code: -32602 });
    // terminate_vm: operate only, and only a VM of the named preset.
    const denied = await rpc('terminate_vm', { preset: 'web', vm_id: id }, 'read');
    expect(denied.error).toMatchObject({ code: -32000, data: { code: 'api_auth_0003' } });
    const dbVm = cloudVms()
      .get('db')!
      .find((v) => v.state === 'running')!;
    const cross = await rpc('terminate_vm', { preset: 'web', vm_id: dbVm.id }, 'operate');
    expect(cross.error.data.code).toBe('vm_verb_0002');
    expect(running(cloudVms().get('db'))).toBe(1);
    // Answered once its task ended, as the original answered once the VM was terminated: cycles run it.
    let answer: unknown;
    const terminated = rpc('terminate_vm', { preset: 'web', vm_id: id }, 'operate').then((a) => {
      answer = a;
    });
    await eventually(
      afterCycle(f.daemon, () => answer),
      (a) => a !== undefined,
      10_000,
    );
    await terminated;
    expect(answer).toEqual({ jsonrpc: '2.0', result: 'OK', id: 7 });
    expect(
      (await f.daemon.presetState('web')).events.some((e) => e.type === 'terminated' && e.vm === id),
    ).toBe(true);
    const anonymous = await call('POST', '/api', 'none', { jsonrpc: '2.0', method: 'list_presets', id: 1 });
    expect(anonymous.json().error.data.code).toBe('api_auth_0001');
    const batch = await call('POST', '/api', 'read', [
      { jsonrpc: '2.0', method: 'list_presets', id: 1 },
      { jsonrpc: '2.0', method: 'get_preset_tags', params: ['db'], id: 2 },
    ]);
    expect(batch.json().map((a: { id: number }) => a.id)).toEqual([1, 2]);
  });

  it('caps a JSON-RPC batch, answers get_vm_ip from the snapshot, and keeps other look-ups in a small budget', async () => {
    const rpcBatch = async (calls: unknown[]) => (await call('POST', '/api', 'read', calls)).json();
    const ipCall = (vmId: string, id: number) => ({
      jsonrpc: '2.0',
      method: 'get_vm_ip',
      params: ['web', vmId],
      id,
    });
    const tooMany = await rpcBatch(Array.from({ length: 101 }, (_, i) => ipCall('x', i)));
    expect(tooMany).toMatchObject({ error: { code: -32600, data: { code: 'api_rpc_0002' } }, id: null });
    const account = await f.daemon.drivers.account(f.daemon.catalog.get('web')!);
    const get = account.get.bind(account);
    let inFlight = 0;
    let most = 0;
    const spy = vi.spyOn(account, 'get').mockImplementation(async (id, options) => {
      most = Math.max(most, ++inFlight);
      try {
        return await get(id, options);
      } finally {
        inFlight--;
      }
    });
    try {
      const alive = (await vmsOf('web')).filter((v) => v.state === 'running');
      expect(alive.length).toBeGreaterThan(0);
      const known = await rpcBatch(
        Array.from({ length: 100 }, (_, i) => ipCall(alive[i % alive.length]!.id, i)),
      );
      expect(known).toHaveLength(100);
      for (const a of known) expect(a.result).toEqual({ vm_ip: '127.0.0.1' });
      expect(spy).not.toHaveBeenCalled(); // the loop's snapshot answered: no cloud call
      const unknown = await rpcBatch(Array.from({ length: 100 }, (_, i) => ipCall(`gone-${i}`, i)));
      for (const a of unknown) expect(a.error.data.code).toBe('vm_verb_0002');
      expect(spy).toHaveBeenCalledTimes(100);
      expect(most).toBeLessThanOrEqual(API_CLOUD_CONCURRENCY);
    } finally {
      spy.mockRestore();
    }
  });

  it('serves an OpenAPI document generated from the route table', async () => {
    const doc = (await call('GET', '/api/v1/openapi.json', 'none')).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const r of REST_ROUTES) {
      const op = doc.paths[`/api/v1${r.path.replace(/:(\w+)/g, '{$1}')}`]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op['x-vmshepherd-role']).toBe(r.access);
    }
    const verb = doc.paths['/api/v1/presets/{name}/vms/{id}/{verb}'].post;
    expect(verb.parameters.find((p: { name: string }) => p.name === 'verb').schema.enum).toEqual([
      'quiesce',
      'restart',
      'scrub',
      'restore',
      'update',
    ]);
    expect(Object.keys(verb.responses)).toContain('202');
  });

  it('serves health, readiness and Prometheus metrics', async () => {
    expect((await call('GET', '/healthz', 'none')).json()).toEqual({ status: 'ok' });
    expect((await call('GET', '/readyz', 'none')).json()).toMatchObject({ status: 'ready', presets: 4 });
    const metrics = (await call('GET', '/metrics', 'read')).body;
    expect(metrics).toMatch(/vmshepherd_preset_desired_vms\{preset="web"\} 3/);
    expect(metrics).toContain('vmshepherd_manage_duration_seconds_bucket');
    expect(metrics).toMatch(/vmshepherd_cloud_calls_total\{driver="DummyIaasDriver",verb="create"\} \d+/);
    expect(metrics).toMatch(
      /vmshepherd_http_requests_total\{method="GET",route="\/api\/v1\/presets\/:name",status="200"\} \d+/,
    );
    expect(metrics).toMatch(/vmshepherd_verb_tasks_total\{verb="quiesce",state="done"\} 1/);
  });

  it('never shows a secret: tokens, driver options, and userdata to anyone but operators', async () => {
    const [vm] = await vmsOf('web');
    const urls = [
      ...READS,
      '/api/v1/openapi.json',
      '/api/v1/presets/probe',
      '/api/v1/events',
      '/readyz',
      '/login',
      `/api/v1/tasks`,
    ];
    for (const who of ['none', 'read', 'operate'] as const) {
      for (const url of urls) {
        const body = (await call('GET', url, who)).body;
        for (const secret of [READ_TOKEN, OPERATE_TOKEN, HC_SECRET])
          expect(body, `${who} ${url}`).not.toContain(secret);
        if (who !== 'operate') expect(body, `${who} ${url}`).not.toContain(USERDATA_SECRET);
      }
      for (const method of ['list_presets_with_tags', 'get_preset_tags', 'list_vms', 'get_vm_metadata']) {
        const body = (
          await call('POST', '/api', who, {
            jsonrpc: '2.0',
            method,
            params: { preset: 'web', vm_id: vm!.id },
            id: 1,
          })
        ).body;
        for (const secret of [READ_TOKEN, OPERATE_TOKEN, HC_SECRET, USERDATA_SECRET])
          expect(body).not.toContain(secret);
      }
    }
    // The operator does see the rendered userdata, on the page as in the API.
    expect((await call('GET', '/presets/web', 'operate')).body).toContain(USERDATA_SECRET);
  });

  it('signs a browser in with a token cookie; the panel acts only with its header', async () => {
    const login = await f.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${READ_TOKEN}`,
    });
    expect(login.statusCode).toBe(303);
    const cookie = String(login.headers['set-cookie']);
    expect(cookie).toContain('HttpOnly');
    expect(cookie).toContain('SameSite=Strict');
    const page = await f.app.inject({
      method: 'GET',
      url: '/presets/web',
      headers: { cookie: cookie.split(';')[0] },
    });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    expect(page.body).toContain('reader · read-only');
    expect(page.body).toMatch(/<button class="btn sm danger" disabled title="This token has the read role/);
    const bad = await f.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'token=wrong',
    });
    expect(bad.headers.location).toBe('/login?bad=1');
    const panelAct = await f.app.inject({
      method: 'POST',
      url: '/api/v1/presets/web/manage',
      headers: { cookie: `vmshepherd_token=${OPERATE_TOKEN}`, 'x-vmshepherd-panel': '1' },
    });
    expect(panelAct.statusCode).toBe(202);
  });

  it('refuses a cross-site form even when the browser adds a proxy Basic header, and cross-site sign-in', async () => {
    const [vm] = await vmsOf('web');
    const before = cloudVms().get('web')!.length;
    const forged = (headers: Record<string, string>) =>
      f.app.inject({
        method: 'DELETE',
        url: `/api/v1/presets/web/vms/${vm!.id}`,
        headers: { cookie: `vmshepherd_token=${OPERATE_TOKEN}`, ...headers },
      });
    for (const headers of [
      { authorization: 'Basic dXNlcjpwYXNz', origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' },
      { authorization: 'Basic dXNlcjpwYXNz', origin: 'https://evil.example' },
      { authorization: 'Basic dXNlcjpwYXNz', 'sec-fetch-site': 'same-site' },
      { 'x-vmshepherd-panel': '1', origin: 'null' },
    ] as Record<string, string>[]) {
      const res = await forged(headers);
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
      expect(res.json().error.code).toBe('api_auth_0005');
    }
    // A Basic header without an Origin is not the panel's header either: the cookie does not act.
    expect((await forged({ authorization: 'Basic dXNlcjpwYXNz' })).statusCode).toBe(401);
    expect(
      cloudVms()
        .get('web')!
        .filter((v) => v.id === vm!.id),
    ).toHaveLength(1);
    expect(cloudVms().get('web')!.length).toBe(before);
    const rpc = await f.app.inject({
      method: 'POST',
      url: '/api',
      headers: {
        cookie: `vmshepherd_token=${OPERATE_TOKEN}`,
        authorization: 'Basic dXNlcjpwYXNz',
        'content-type': 'text/plain',
        'sec-fetch-site': 'cross-site',
      },
      payload: JSON.stringify({ jsonrpc: '2.0', method: 'terminate_vm', params: [`web`, vm!.id], id: 1 }),
    });
    expect(rpc.statusCode).toBe(403);
    expect(rpc.json().error.data.code).toBe('api_auth_0005');
    // The panel itself (same origin) still acts.
    const own = await f.app.inject({
      method: 'POST',
      url: '/api/v1/presets/web/manage',
      headers: {
        cookie: `vmshepherd_token=${OPERATE_TOKEN}`,
        'x-vmshepherd-panel': '1',
        origin: 'http://localhost:80',
        host: 'localhost:80',
        'sec-fetch-site': 'same-origin',
      },
    });
    expect(own.statusCode).toBe(202);
    const login = await f.app.inject({
      method: 'POST',
      url: '/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'https://evil.example',
        'sec-fetch-site': 'cross-site',
      },
      payload: `token=${READ_TOKEN}`,
    });
    expect(login.statusCode).toBe(403);
    expect(login.headers['set-cookie']).toBeUndefined();
    // The panel's own form: no-referrer makes the browser send `Origin: null`, with Sec-Fetch-Site same-origin.
    const ownForm = await f.app.inject({
      method: 'POST',
      url: '/login',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        origin: 'null',
        'sec-fetch-site': 'same-origin',
      },
      payload: `token=${READ_TOKEN}`,
    });
    expect(ownForm.headers.location).toBe('/');
    const tls = await f.app.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-forwarded-proto': 'https' },
      payload: `token=${READ_TOKEN}`,
    });
    expect(String(tls.headers['set-cookie'])).toContain('; Secure');
  });
});

describe('HTTP API without tokens (every original configuration)', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await apiFixture(
      settings('http: {listen_port: 0, api: {allowed_methods: [list_presets, terminate_vm]}}'),
    );
    await f.daemon.refreshPresets();
    await converge(f);
  });
  afterAll(() => f?.close());

  it('keeps reads open and refuses every action, saying how to configure a token', async () => {
    for (const url of READS) expect((await f.app.inject({ url })).statusCode, url).toBe(200);
    const [vm] = cloudVms().get('web')!;
    for (const [method, url] of [
      ['POST', '/api/v1/presets/web/manage'],
      ['POST', '/api/v1/presets/web/pause'],
      ['DELETE', `/api/v1/presets/web/vms/${vm!.id}`],
      ['POST', `/api/v1/presets/web/vms/${vm!.id}/quiesce`],
    ] as const) {
      const res = await f.app.inject({ method, url, headers: bearer('whatever-token') });
      expect(res.statusCode).toBe(401); // an unknown token is refused, never ignored
      const anon = await f.app.inject({ method, url });
      expect(anon.statusCode).toBe(403);
      expect(anon.json().error.code).toBe('api_auth_0004');
      expect(anon.json().error.fix).toContain('http.tokens');
    }
    const page = await f.app.inject({ url: '/presets/web' });
    expect(page.body).toContain('anonymous · read-only');
    expect(page.body).toContain('configuration defines no API token');
  });

  it('honours http.api.allowed_methods, and terminate_vm still needs a token', async () => {
    const rpc = async (method: string, params?: unknown) =>
      (
        await f.app.inject({
          method: 'POST',
          url: '/api',
          payload: { jsonrpc: '2.0', method, params, id: 1 },
        })
      ).json();
    expect((await rpc('list_presets')).result).toEqual(['db', 'probe', 'web']);
    expect((await rpc('list_vms', { preset: 'web' })).error).toMatchObject({
      code: -32601,
      data: { code: 'api_rpc_0001' },
    });
    const [vm] = cloudVms().get('web')!;
    expect((await rpc('terminate_vm', { preset: 'web', vm_id: vm!.id })).error.data.code).toBe(
      'api_auth_0004',
    );
    // The original's scripts may post without a JSON content type.
    const plain = await f.app.inject({
      method: 'POST',
      url: '/api',
      headers: { 'content-type': 'text/plain' },
      payload: '{"jsonrpc":"2.0","method":"list_presets","id":3}',
    });
    expect(plain.json().result).toEqual(['db', 'probe', 'web']);
  });
});

describe('HTTP API with tokens and open reads', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await apiFixture(settings(tokensBlock('  open_reads: true')), { 'db.conf': PRESETS['db.conf']! });
    await f.daemon.refreshPresets();
  });
  afterAll(() => f?.close());

  it('lets reads through without a token and still needs operate for actions', async () => {
    expect((await f.app.inject({ url: '/api/v1/presets' })).statusCode).toBe(200);
    expect((await f.app.inject({ url: '/' })).statusCode).toBe(200);
    const act = await f.app.inject({ method: 'POST', url: '/api/v1/presets/db/pause' });
    expect(act.statusCode).toBe(401);
    expect(act.json().error.code).toBe('api_auth_0001');
  });
});
