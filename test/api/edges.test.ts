import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, apiFixture, bearer, settings } from '../helpers/api.js';
import { afterCycle, cloudVms, daemonIn, eventually, running } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

describe('edges of the API (issue 22 point 12)', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await apiFixture(settings('http: {listen_port: 0}'));
    await f.daemon.refreshPresets();
  });
  afterAll(() => f?.close());

  it('never lists no preset while a reload swaps the catalog', async () => {
    let polls = 0;
    let empty = 0;
    let reloading = true;
    const poller = (async () => {
      while (reloading) {
        // What the list is built from (the API's own answer is shared for 0.5 s, which hides short gaps).
        if (f.daemon.presets().length === 0) empty++;
        const res = await f.app.inject({ url: '/api/v1/presets' });
        polls++;
        if (res.json().items.length === 0) empty++;
        // Let I/O run between polls, as requests over the network would (inject alone never yields to it).
        await new Promise((r) => setImmediate(r));
      }
    })();
    for (let i = 0; i < 10; i++) expect(await f.daemon.reload()).toBe(true);
    reloading = false;
    await poller;
    expect(polls).toBeGreaterThan(10);
    expect(empty).toBe(0);
    expect(f.daemon.presets().map((p) => p.name)).toEqual(['db', 'probe', 'web']);
  });

  it('answers a trailing slash with the list, not a 500', async () => {
    const res = await f.app.inject({ url: '/api/v1/presets/' });
    expect(res.statusCode).toBe(200);
    expect(res.json().items.map((p: { name: string }) => p.name)).toEqual(['db', 'probe', 'web']);
  });

  it('answers an undecodable URL in the catalogue shape', async () => {
    const res = await f.app.inject({ url: '/api/v1/presets/%E0%A4%A' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatchObject({ code: 'api_request_0001', fix: expect.any(String) });
  });

  it('answers a refused JSON-RPC caller or body in JSON-RPC shape with the catalogue code', async () => {
    const bad = await f.app.inject({
      method: 'POST',
      url: '/api',
      headers: bearer('not-a-token-at-all'),
      payload: { jsonrpc: '2.0', method: 'list_presets', id: 1 },
    });
    expect(bad.statusCode).toBe(401);
    expect(bad.headers['www-authenticate']).toContain('Bearer');
    expect(bad.json()).toMatchObject({
      jsonrpc: '2.0',
      error: { code: -32000, data: { code: 'api_auth_0002', fix: expect.any(String) } },
      id: null,
    });
    const garbled = await f.app.inject({
      method: 'POST',
      url: '/api',
      headers: { 'content-type': 'application/json' },
      payload: '{"jsonrpc": "2.0", "method": ',
    });
    expect(garbled.json()).toMatchObject({
      jsonrpc: '2.0',
      error: { code: -32700, data: { code: 'api_request_0001' } },
    });
  });
});

describe('a manage of a preset above 10 VMs', () => {
  it('adds one abort listener per signal, not one per VM (no MaxListenersExceededWarning)', async () => {
    const dir = tempDir({
      'settings.yaml': `
worker_interval: 0.2
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
manage: {health_concurrency: 64}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.01, boot_time: 0.05}
  healthcheck: {driver: DummyHealthcheck, latency: 0.05}
`,
      'presets/big.conf': 'name: big\ncount: 20\nimage: img-1\nmanage_interval: 0\n',
    });
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const { daemon } = await daemonIn(dir);
    try {
      await daemon.refreshPresets();
      await eventually(
        afterCycle(daemon, () => cloudVms()),
        (m) => running(m.get('big')) === 20,
        15_000,
      );
      await daemon.runCycle(); // 20 health checks on the manage's one signal
      await daemon.runCycle();
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
    } finally {
      process.off('warning', onWarning);
      await daemon.stop();
    }
  });
});
