import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { DriverRegistry } from '../../src/drivers/registry.js';
import { catalogIn } from '../helpers/catalog.js';
import { tempDir } from '../helpers/tmp.js';

const registry = new DriverRegistry([process.cwd()]);
const parse = (text: string, env: NodeJS.ProcessEnv = {}, overrides = {}, strict = false) =>
  parseConfig(text, 'settings.yaml', registry, { env, overrides, strict });

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

  it('warns about an unknown top-level key with file:line:col and a hint, and ignores it', async () => {
    const { config, errors, warnings } = await parse(
      ORIGINAL.replace('worker_interval: 5', 'worker_intervall: 5'),
    );
    expect(errors).toEqual([]);
    expect(config?.workerIntervalMs).toBe(5000);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.code).toBe('config_load_1005');
    expect(warnings[0]!.isWarning).toBe(true);
    expect(warnings[0]!.at).toEqual({ file: 'settings.yaml', line: 2, col: 1 });
    expect(warnings[0]!.message).toContain("did you mean 'worker_interval'");
  });

  it("points the correctly spelled terminate_health_failed_delay at the original's key", async () => {
    const { errors, warnings } = await parse(
      ORIGINAL.replace('terminate_heatlh_failed_delay', 'terminate_health_failed_delay'),
    );
    expect(errors).toEqual([]);
    expect(warnings.map((e) => e.code)).toEqual(['driver_options_1002']);
    expect(warnings[0]!.at).toEqual({ file: 'settings.yaml', line: 25, col: 5 });
    expect(warnings[0]!.message).toContain("did you mean 'terminate_heatlh_failed_delay'");
  });

  it("warns about unknown driver options with the driver's keys as hints", async () => {
    const { errors, warnings } = await parse(ORIGINAL.replace('    port: 7007', '    prot: 7007'));
    expect(errors).toEqual([]);
    expect(warnings[0]!.code).toBe('driver_options_1002');
    expect(warnings[0]!.at?.line).toBe(21);
    expect(warnings[0]!.message).toContain("did you mean 'port'");
  });

  it('names the built-in drivers that read a key the selected driver does not', async () => {
    const text = ORIGINAL.replace(
      '    api_secret: asd\n',
      '    api_secret: asd\n    project_name: PROJECT\n',
    );
    const { config, warnings } = await parse(text);
    expect(config).toBeDefined();
    expect(warnings.map((w) => w.code)).toEqual(['driver_options_1002']);
    expect(warnings[0]!.message).toContain("iaas: 'project_name' is not read by DummyIaasDriver");
    expect(warnings[0]!.message).toContain('(OpenStackDriver reads it)');
    expect(warnings[0]!.at).toEqual({ file: 'settings.yaml', line: 17, col: 5 });
  });

  it("accepts the original's autostart and runtime.preset_lock_ttl as warnings", async () => {
    const text = ORIGINAL.replace(
      'runtime:\n  driver: InMemoryDriver\n',
      'autostart: false\nruntime:\n  driver: InMemoryDriver\n  preset_lock_ttl: 60\n',
    );
    const { config, errors, warnings } = await parse(text);
    expect(errors).toEqual([]);
    expect(config?.runtime).toEqual({ driver: 'InMemoryDriver', options: {} });
    expect(warnings.map((w) => [w.code, w.at?.line])).toEqual([
      ['config_load_1005', 7],
      ['driver_options_1002', 10],
    ]);
    expect(warnings[1]!.message).toContain("runtime: 'preset_lock_ttl' is not read by InMemoryDriver");
  });

  it('makes warnings errors with strict: true or --strict', async () => {
    const typo = ORIGINAL.replace('worker_interval: 5', 'worker_intervall: 5');
    const flagged = await parse(typo, {}, {}, true);
    expect(flagged.config).toBeUndefined();
    expect(flagged.warnings).toEqual([]);
    expect(flagged.errors.map((e) => [e.code, e.isWarning])).toEqual([['config_load_1005', false]]);
    const inFile = await parse(`strict: true\n${typo}`);
    expect(inFile.config).toBeUndefined();
    expect(inFile.errors.map((e) => e.code)).toEqual(['config_load_1005']);
    const clean = await parse(`strict: yes\n${ORIGINAL}`);
    expect(clean.errors).toEqual([]);
    expect(clean.config?.strict).toBe(true);
  });

  it('keeps unknown keys errors in blocks the original never had', async () => {
    const { config, errors } = await parse(`${ORIGINAL}manage: {concurency: 8}\n`);
    expect(config).toBeUndefined();
    expect(errors.map((e) => e.code)).toEqual(['config_load_1003']);
    expect(errors[0]!.message).toContain("did you mean 'concurrency'");
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

  it('keeps finished tasks for tasks.keep, in seconds or with a unit, 7 days by default', async () => {
    expect((await parse(ORIGINAL)).config?.tasks.keep).toBe(604_800);
    expect((await parse(`${ORIGINAL}tasks: {keep: 12h}\n`)).config?.tasks.keep).toBe(43_200);
    expect((await parse(`${ORIGINAL}tasks: {keep: 90}\n`)).config?.tasks.keep).toBe(90);
    const { errors } = await parse(`${ORIGINAL}tasks: {keep: 2w}\n`);
    expect(errors[0]!.code).toBe('config_load_1002');
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
    const text = ORIGINAL.replace('worker_interval: 5', 'worker_interval: -1').replace(
      'listen_port: 8888',
      'listen_port: none',
    );
    const { errors } = await parse(`${text}manage: {concurency: 8}\n`);
    expect(errors.map((e) => e.code).sort()).toEqual([
      'config_load_1002',
      'config_load_1002',
      'config_load_1003',
    ]);
  });
  it('allows every JSON-RPC method when allowed_methods is empty or absent, as the original did', async () => {
    const list = (text: string) =>
      parse(ORIGINAL.replace('    allowed_methods: [list_presets, list_vms]\n', text)).then(
        (r) => r.config?.http.allowedMethods,
      );
    expect(await list('    allowed_methods: []\n')).toBeUndefined();
    expect(await list('    allowed_methods:\n')).toBeUndefined();
    expect(await list('    allowed_methods: [get_vm_ip]\n')).toEqual(['get_vm_ip']);
  });
});

describe("the original's tests/ configurations, as YAML", () => {
  const fixture = (name: string) => readFileSync(`test/fixtures/original-tests/${name}`, 'utf8');

  it('accepts tests/common.py with autostart as a warning', async () => {
    const { config, errors, warnings } = await parse(fixture('settings.yaml'));
    expect(errors).toEqual([]);
    expect(config?.defaults.iaas).toEqual({ driver: 'DummyIaasDriver', api_key: 'asd', api_secret: 'asd' });
    expect(warnings.map((w) => [w.code, w.details.path])).toEqual([['config_load_1005', 'autostart']]);
  });

  it("accepts test_openstack_driver.py's options, warning about the keys OpenStackDriver does not read", async () => {
    const { config, errors, warnings } = await parse(fixture('settings-openstack.yaml'));
    expect(errors).toEqual([]);
    expect(config).toBeDefined();
    expect(warnings.map((w) => w.details.key ?? w.details.path)).toEqual([
      'autostart',
      'api_version',
      'flavor_id',
      'image_id',
      'flavor',
      'image',
    ]);
    expect(warnings[1]!.message).toContain("iaas: 'api_version' is not read by OpenStackDriver");
  });

  it("accepts test_gitrepo_driver.py's options", async () => {
    const { config, errors } = await parse(fixture('settings-git.yaml'));
    expect(errors).toEqual([]);
    expect(config?.presets.driver).toBe('GitRepoDriver');
  });
});

describe('YAML as the original read it (PyYAML, YAML 1.1)', () => {
  const MINIMAL = 'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: p}\n';

  it('reads yes/no/on/off as booleans, 0755 as octal and 1:30 as 90, and y/n/1e3/08 as text', async () => {
    const { config, errors } = await parse(
      `${MINIMAL}defaults:\n  unmanaged: no\n  a: on\n  b: 0755\n  c: 1:30\n  d: y\n  n: 1e3\n  e: 08\n  f: 1.5e+3\n`,
    );
    expect(errors).toEqual([]);
    expect(config?.defaults).toMatchObject({
      unmanaged: false,
      a: true,
      b: 493,
      c: 90,
      d: 'y',
      n: '1e3',
      e: '08',
      f: 1500,
    });
  });

  it('reads a file that declares %YAML 1.2 as YAML 1.2', async () => {
    const { config } = await parse(`%YAML 1.2\n---\n${MINIMAL}defaults:\n  a: on\n  b: 0755\n`);
    expect(config?.defaults).toMatchObject({ a: 'on', b: 755 });
  });

  it('merges << keys', async () => {
    const { config, errors } = await parse(
      `${MINIMAL}defaults:\n  base: &base {driver: DummyIaasDriver, latency: 0}\n  iaas:\n    <<: *base\n    latency: 1\n`,
    );
    expect(errors).toEqual([]);
    expect(config?.defaults.iaas).toEqual({ driver: 'DummyIaasDriver', latency: 1 });
  });

  it('takes the last of a key given twice, with a warning at the one used', async () => {
    const { config, errors, warnings } = await parse(`${MINIMAL}worker_interval: 5\nworker_interval: 7\n`);
    expect(errors).toEqual([]);
    expect(config?.workerIntervalMs).toBe(7000);
    expect(warnings.map((w) => [w.code, w.at?.line, w.at?.col])).toEqual([['config_load_1006', 4, 1]]);
    expect(warnings[0]!.message).toContain('also at line 3');
  });

  it('converts a number where text is expected, with a warning, and keeps real errors', async () => {
    const ok = await parse(`${MINIMAL}instance_id: 2024\n`);
    expect(ok.config?.instanceId).toBe('2024');
    expect(ok.warnings.map((w) => [w.code, w.at?.line, w.at?.col])).toEqual([['config_load_1007', 3, 14]]);
    const bad = await parse(`${MINIMAL}worker_interval: abc\n`);
    expect(bad.errors.map((e) => e.code)).toEqual(['config_load_1002']);
  });

  it("converts numeric text where the original's int() or float() read it, with a warning", async () => {
    const text = ORIGINAL.replace('worker_interval: 5', "worker_interval: '7'")
      .replace('listen_port: 8888', "listen_port: '9999'")
      .replace('    port: 7007', "    port: '7007'")
      .replace('    conn_timeout: 1', "    conn_timeout: '1.5'");
    const { config, errors, warnings } = await parse(text);
    expect(errors).toEqual([]);
    expect(config?.workerIntervalMs).toBe(7000);
    expect(config?.http.listenPort).toBe(9999);
    expect(warnings.map((w) => [w.code, w.at?.line])).toEqual([
      ['config_load_1007', 2],
      ['config_load_1007', 4],
    ]);
    expect(warnings[0]!.message).toContain("worker_interval: '7' is text: taken as the number 7");
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 1\n' });
    const catalog = await catalogIn(dir, text);
    const { problems } = await catalog.refresh();
    const health = catalog.get('a')!.healthcheck!;
    expect(health.options).toMatchObject({ port: 7007, conn_timeout: 1.5 });
    expect(problems.map((p) => [p.code, p.at?.line])).toEqual([
      ['driver_options_1003', 19],
      ['driver_options_1003', 21],
    ]);
  });
});
