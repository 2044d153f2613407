import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { DriverRegistry } from '../../src/drivers/registry.js';
import { startServer } from '../../src/http/server.js';
import { type ApiFixture, apiFixture, PRESETS, settings, tokensBlock } from '../helpers/api.js';
import { daemonIn } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const registry = new DriverRegistry([process.cwd()]);
const parse = (http: string) =>
  parseConfig(settings(http), 'settings.yaml', registry, { env: {}, overrides: {}, strict: false });
const codes = async (http: string) => (await parse(http)).errors.map((e) => e.code);

describe('binding beyond loopback', () => {
  it('refuses a non-loopback bind without tokens unless open_reads says it is meant', async () => {
    expect(await codes('http: {listen_port: 0, host: 0.0.0.0}')).toEqual(['config_load_1008']);
    expect(await codes('http: {listen_port: 0, host: "::"}')).toEqual(['config_load_1008']);
    expect(await codes('http: {listen_port: 0, host: 0.0.0.0, open_reads: true}')).toEqual([]);
    expect(await codes(tokensBlock('  host: 0.0.0.0'))).toEqual([]);
    for (const host of ['127.0.0.1', '127.0.0.2', 'localhost', '"::1"'])
      expect(await codes(`http: {listen_port: 0, host: ${host}}`), host).toEqual([]);
    const [error] = (await parse('http: {listen_port: 0, host: 0.0.0.0}')).errors;
    expect(error?.message).toContain('0.0.0.0');
  });

  it('warns loudly at start when reads are open to the network', async () => {
    const dir = tempDir({
      'settings.yaml': settings('http: {listen_port: 0, host: 0.0.0.0, open_reads: true}'),
      'presets/db.conf': PRESETS['db.conf']!,
    });
    const { daemon, logs } = await daemonIn(dir);
    const app = await startServer(daemon);
    try {
      const warning = logs.find((l) => l.code === 'api_server_1001');
      expect(warning).toMatchObject({ level: 40, host: '0.0.0.0' });
      expect(String(warning?.msg)).toContain('open_reads');
    } finally {
      await app.close();
      await daemon.stop();
    }
    const quiet = tempDir({
      'settings.yaml': settings('http: {listen_port: 0}'),
      'presets/db.conf': PRESETS['db.conf']!,
    });
    const local = await daemonIn(quiet);
    const localApp = await startServer(local.daemon);
    await localApp.close();
    await local.daemon.stop();
    expect(local.logs.some((l) => l.code === 'api_server_1001')).toBe(false);
  });
});

describe('the Host header', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await apiFixture(settings('http: {listen_port: 0, allowed_hosts: [Shepherd.Example.COM]}'), {
      'db.conf': PRESETS['db.conf']!,
    });
  });
  afterAll(() => f?.close());
  const get = (host: string, url = '/api/v1/presets') => f.app.inject({ url, headers: { host } });

  it('answers only to loopback names, IP addresses, http.host and http.allowed_hosts', async () => {
    for (const host of [
      'localhost',
      'localhost:8888',
      '127.0.0.1:8888',
      '[::1]:8888',
      '10.1.2.3',
      'shepherd.example.com',
      'SHEPHERD.example.com:443',
    ])
      expect((await get(host)).statusCode, host).toBe(200);
    // A name rebound to this address by another site's DNS (rebinding) reads nothing.
    for (const host of ['evil.example', 'attacker.localhost.evil.example:8888']) {
      for (const url of ['/api/v1/presets', '/', '/metrics']) {
        const res = await get(host, url);
        expect(res.statusCode, `${host} ${url}`).toBe(421);
        expect(res.json().error.code).toBe('api_request_0003');
      }
    }
    const rpc = await f.app.inject({
      method: 'POST',
      url: '/api',
      headers: { host: 'evil.example' },
      payload: { jsonrpc: '2.0', method: 'list_presets', id: 1 },
    });
    expect(rpc.statusCode).toBe(421);
    // Probes carry nothing to steal: an orchestrator may probe by any name.
    expect((await get('evil.example', '/healthz')).statusCode).toBe(200);
  });
});
