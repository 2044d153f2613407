import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { DriverRegistry } from '../../src/drivers/registry.js';

const registry = new DriverRegistry([process.cwd()]);
const parse = (text: string, env: NodeJS.ProcessEnv = {}, overrides = {}) =>
  parseConfig(text, 'settings.yaml', registry, { env, overrides });

const ORIGINAL = `log_level: info
worker_interval: 5
http:
  listen_port: 8888
  api:
    allowed_methods: [list_presets, list_vms]
runtime:
  driver: InMemoryDriver
presets:
  driver: DirectoryDriver
  path: presets
defaults:
  iaas:
    driver: DummyIaasDriver
    api_key: asd
    api_secret: asd
  healthcheck:
    driver: HttpHealthcheck
    conn_timeout: 1
    read_timeout: 1
    port: 7007
    path: /
    method: GET
    check_status: 200
    terminate_heatlh_failed_delay: 10
`;

describe('main configuration', () => {
  it("accepts the original's example configuration unchanged", async () => {
    const { config, errors } = await parse(ORIGINAL);
    expect(errors).toEqual([]);
    expect(config?.workerIntervalMs).toBe(5000);
    expect(config?.http).toMatchObject({
      listenPort: 8888,
      host: '127.0.0.1',
      allowedMethods: ['list_presets', 'list_vms'],
    });
    expect(config?.logLevel).toBe('info');
  });

  it('accepts Python log level names', async () => {
    const { config } = await parse(ORIGINAL.replace('log_level: info', 'log_level: WARNING'));
    expect(config?.logLevel).toBe('warn');
  });

  it('reports an unknown key with file:line:col and a hint', async () => {
    const { errors } = await parse(ORIGINAL.replace('worker_interval: 5', 'worker_intervall: 5'));
    expect(errors).toHaveLength(1);
    expect(errors[0]!.code).toBe('config_load_1003');
    expect(errors[0]!.at).toEqual({ file: 'settings.yaml', line: 2, col: 1 });
    expect(errors[0]!.message).toContain("did you mean 'worker_interval'");
  });

  it("points the correctly spelled terminate_health_failed_delay at the original's key", async () => {
    const { errors } = await parse(
      ORIGINAL.replace('terminate_heatlh_failed_delay', 'terminate_health_failed_delay'),
    );
    expect(errors.map((e) => e.code)).toEqual(['config_load_1003']);
    expect(errors[0]!.at).toEqual({ file: 'settings.yaml', line: 25, col: 5 });
    expect(errors[0]!.message).toContain("did you mean 'terminate_heatlh_failed_delay'");
  });

  it("reports unknown driver options with the driver's keys as hints", async () => {
    const { errors } = await parse(ORIGINAL.replace('    port: 7007', '    prot: 7007'));
    expect(errors[0]!.code).toBe('config_load_1003');
    expect(errors[0]!.at?.line).toBe(21);
    expect(errors[0]!.message).toContain("did you mean 'port'");
  });

  it('reports invalid values where they are', async () => {
    const { errors } = await parse(ORIGINAL.replace('worker_interval: 5', 'worker_interval: -1'));
    expect(errors[0]!.code).toBe('config_load_1002');
    expect(errors[0]!.at?.line).toBe(2);
    expect(errors[0]!.at?.col).toBe(18);
  });

  it('takes manage.heap_growth between 1.1 and 4 or 0 (V8 decides), 1.3 by default', async () => {
    expect((await parse(ORIGINAL)).config?.manage.heap_growth).toBe(1.3);
    expect((await parse(`${ORIGINAL}manage: {concurrency: 8}\n`)).config?.manage.heap_growth).toBe(1.3);
    const ok = await parse(`${ORIGINAL}manage: {heap_growth: 2}\n`);
    expect(ok.config?.manage.heap_growth).toBe(2);
    expect((await parse(`${ORIGINAL}manage: {heap_growth: 0}\n`)).config?.manage.heap_growth).toBe(0);
    const { errors } = await parse(`${ORIGINAL}manage: {heap_growth: 0.5}\n`);
    expect(errors[0]!.code).toBe('config_load_1002');
    expect(errors[0]!.at?.line).toBe(ORIGINAL.split('\n').length);
  });

  it('names an unknown driver with a hint', async () => {
    const { errors } = await parse(ORIGINAL.replace('driver: InMemoryDriver', 'driver: InMemoryDrivr'));
    expect(errors[0]!.code).toBe('driver_resolve_1001');
    expect(errors[0]!.at?.line).toBe(8);
    expect(errors[0]!.message).toContain("did you mean 'InMemoryDriver'");
  });

  it('interpolates ${VAR} and ${VAR:-default}, typed when unquoted', async () => {
    const text = ORIGINAL.replace('listen_port: 8888', 'listen_port: ${PORT}').replace(
      'api_key: asd',
      'api_key: "${KEY:-fallback}"',
    );
    const { config, errors } = await parse(text, { PORT: '9999' });
    expect(errors).toEqual([]);
    expect(config?.http.listenPort).toBe(9999);
    expect((config!.defaults.iaas as Record<string, unknown>).api_key).toBe('fallback');
  });

  it('reports an unset variable at its position and keeps $${ literal', async () => {
    const { errors } = await parse(ORIGINAL.replace('api_key: asd', 'api_key: ${MISSING_SECRET}'));
    expect(errors[0]!.code).toBe('config_load_1004');
    expect(errors[0]!.at?.line).toBe(15);
    const { config } = await parse(ORIGINAL.replace('api_key: asd', () => "api_key: '$${LITERAL}'"));
    expect((config!.defaults.iaas as Record<string, unknown>).api_key).toBe('${LITERAL}');
  });

  it('without an http block, keeps the server off unless --port is given, on the schema defaults', async () => {
    const text = ORIGINAL.replace(
      'http:\n  listen_port: 8888\n  api:\n    allowed_methods: [list_presets, list_vms]\n',
      '',
    );
    expect(text).not.toContain('http:');
    const off = await parse(text);
    expect(off.errors).toEqual([]);
    expect(off.config?.http).toMatchObject({
      enabled: false,
      listenPort: 8888,
      host: '127.0.0.1',
      rateWhileCycling: 500,
      openReads: true,
    });
    const on = await parse(text, {}, { port: 7001 });
    expect(on.config?.http).toMatchObject({ enabled: true, listenPort: 7001, host: '127.0.0.1' });
  });

  it('lets command line flags override the file only when given', async () => {
    const given = await parse(ORIGINAL, {}, { logLevel: 'debug', port: 7000 });
    expect(given.config?.logLevel).toBe('debug');
    expect(given.config?.http.listenPort).toBe(7000);
    const notGiven = await parse(ORIGINAL.replace('log_level: info', 'log_level: error'), {}, {});
    expect(notGiven.config?.logLevel).toBe('error');
  });

  it('accepts the older driver_params form', async () => {
    const text = `runtime:\n  driver: InMemoryDriver\npresets:\n  driver: DirectoryDriver\n  driver_params:\n    path: config/presets.d\n`;
    const { config, errors } = await parse(text);
    expect(errors).toEqual([]);
    expect(config?.presets.options.path).toBe('config/presets.d');
  });

  it('reports YAML syntax errors with their position', async () => {
    const { errors } = await parse('runtime:\n  driver: [InMemoryDriver\npresets: {}\n');
    expect(errors[0]!.code).toBe('config_load_1001');
    expect(errors[0]!.at?.file).toBe('settings.yaml');
    expect(errors[0]!.at?.line).toBeGreaterThan(1);
  });

  it('lists every error at once', async () => {
    const text = ORIGINAL.replace('worker_interval: 5', 'worker_intervall: 5').replace(
      'listen_port: 8888',
      'listen_port: none',
    );
    const { errors } = await parse(text);
    expect(errors.map((e) => e.code).sort()).toEqual(['config_load_1002', 'config_load_1003']);
  });
});
