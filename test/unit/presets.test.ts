import { cpSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { vmSpec } from '../../src/reconcile/spec.js';
import { catalogIn, SETTINGS } from '../helpers/catalog.js';
import { tempDir } from '../helpers/tmp.js';

const codes = (errors: { code: string }[]) => errors.map((e) => e.code).sort();

describe('presets in the original format', () => {
  it('loads the original example directory unchanged', async () => {
    const dir = tempDir();
    cpSync('test/fixtures/original', dir, { recursive: true });
    const catalog = await catalogIn(
      dir,
      `runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets.d}\ndefaults:\n  iaas: {driver: DummyIaasDriver}\n  healthcheck: {driver: DummyHealthcheck, terminate_heatlh_failed_delay: 10}\n`,
    );
    const report = await catalog.refresh();
    expect(report.problems).toEqual([]);
    expect(catalog.presets().map((p) => p.name)).toEqual(['C_DEV-app-dev', 'web-prod']);
    const dev = catalog.get('C_DEV-app-dev')!;
    expect(dev).toMatchObject({
      flavor: 'm1.small',
      image: 'ubuntu-xenial',
      manageIntervalMs: 0,
      leaseTtlMs: 120_000,
    });
    expect(dev.network).toEqual({
      securityGroups: ['PaaS PrivateCloud', 'paas'],
      availabilityZone: 'nova',
      subnets: ['pl-krk-2-something'],
    });
    expect(dev.userdata).toBeUndefined();
    const web = catalog.get('web-prod')!;
    expect(web.flavor).toBe('m1.medium'); // written `flavour`
    expect(web.network.subnets).toEqual(['3f1c0a52-6c1e-4a0e-9a55-2f1f7e6b1d11']);
    expect(web.healthcheck?.policy.failedDelay).toBe(30);
    expect(dev.healthcheck?.policy.failedDelay).toBe(10);
    expect(web.userdata).toBe(
      '#cloud-config\n# web-prod in production\nwrite_files:\n  - path: /etc/tags\n    content: |\n      service=web\n      owner=team-a\n',
    );
    expect(web.extra).toEqual({ environment: 'production' });
  });
});

describe('presets as the original accepted them', () => {
  it('warns about driver options the driver does not read, names who reads them, and manages the preset', async () => {
    const dir = tempDir({
      'presets/a.conf':
        'name: a\ncount: 1\niaas:\n  project_name: PROJECT_NAME\n  project_domain_name: PROJECT_DOMAIN\n  latncy: 0\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.get('a')).toBeDefined();
    expect(problems.map((p) => [p.code, p.isWarning, p.at?.line, p.at?.col])).toEqual([
      ['driver_options_1002', true, 4, 3],
      ['driver_options_1002', true, 5, 3],
      ['driver_options_1002', true, 6, 3],
    ]);
    expect(problems[0]!.message).toContain(
      "iaas: 'project_name' is not read by DummyIaasDriver (OpenStackDriver reads it)",
    );
    expect(problems[2]!.message).toContain("did you mean 'latency'");
  });

  it('reports a key of the shared defaults once, at its place in the main config', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 1\n', 'presets/b.conf': 'name: b\ncount: 1\n' });
    const settings = SETTINGS.replace(
      '    driver: DummyHealthcheck\n',
      '    driver: DummyHealthcheck\n    port: 7007\n',
    );
    const catalog = await catalogIn(dir, settings);
    const { problems } = await catalog.refresh();
    expect(catalog.presets()).toHaveLength(2);
    expect(problems.map((p) => [p.code, p.at?.file, p.at?.line])).toEqual([
      ['driver_options_1002', join(dir, 'settings.yaml'), 10],
    ]);
    expect(problems[0]!.message).toContain('(HttpHealthcheck, TcpHealthcheck read it)');
  });

  it('converts values the way Python used them, each with a warning at its place', async () => {
    const dir = tempDir({
      'presets/a.conf':
        "name: 2024\ncount: 1\nkey_name: 12345\nunmanaged: 'yes'\nnetwork:\n  availability_zone: 1\nmeta_tags:\n",
    });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    const preset = catalog.get('2024')!;
    expect(preset).toMatchObject({ name: '2024', keyName: '12345', unmanaged: true, metaTags: {} });
    expect(preset.network.availabilityZone).toBe('1');
    expect(problems.map((p) => [p.code, p.at?.line, p.at?.col])).toEqual([
      ['preset_load_1009', 1, 7],
      ['preset_load_1009', 3, 11],
      ['preset_load_1009', 4, 12],
      ['preset_load_1009', 6, 22],
      ['preset_load_1009', 7, 11],
    ]);
    expect(problems[0]!.message).toContain("name: 2024 is not text: taken as '2024'");
    expect(problems[2]!.message).toContain('taken as true');
  });

  it("takes any non-empty text as true where a boolean is expected, as Python's truth value did", async () => {
    const dir = tempDir({
      'presets/a.conf': "name: a\ncount: 1\nunmanaged: 'false'\n",
      'presets/b.conf': "name: b\ncount: 1\nunmanaged: ''\n",
      'presets/c.conf': 'name: c\ncount: 1\nunmanaged: no\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => [p.name, p.unmanaged])).toEqual([
      ['a', true],
      ['b', false],
      ['c', false],
    ]);
    expect(problems.map((p) => p.code)).toEqual(['preset_load_1009', 'preset_load_1009']);
  });

  it('keeps real errors errors', async () => {
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: abc\n',
      'presets/b.conf': "name: b\ncount: '3'\n",
    });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.presets()).toEqual([]);
    expect(problems.map((p) => [p.code, p.isWarning])).toEqual([
      ['preset_load_1002', false],
      ['preset_load_1002', false],
    ]);
  });

  it('keeps meta_tags in their YAML types for the API, and as text in VM metadata', async () => {
    const dir = tempDir({
      'presets/a.conf':
        'name: a\ncount: 1\nmeta_tags:\n  owner: team\n  port: 8080\n  public: yes\n  zones: [a, b]\n  limits: {cpu: 2}\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    const preset = catalog.get('a')!;
    expect(preset.metaTags).toEqual({
      owner: 'team',
      port: 8080,
      public: true,
      zones: ['a', 'b'],
      limits: { cpu: 2 },
    });
    expect(preset.metaTagText).toEqual({
      owner: 'team',
      port: '8080',
      public: 'true',
      zones: '["a","b"]',
      limits: '{"cpu":2}',
    });
    expect(vmSpec(preset).metadata).toMatchObject({ port: '8080', zones: '["a","b"]' });
    expect(problems.map((p) => [p.code, p.at?.line])).toEqual([
      ['preset_load_1009', 5],
      ['preset_load_1009', 6],
      ['preset_load_1009', 7],
      ['preset_load_1009', 8],
    ]);
  });

  it('takes the last of a key given twice, with a warning', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 1\ncount: 2\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.get('a')?.count).toBe(2);
    expect(problems.map((p) => [p.code, p.at?.line])).toEqual([['preset_load_1008', 3]]);
  });

  it('does not manage a preset with warnings under strict: true', async () => {
    const dir = tempDir({
      'presets/a.conf': 'name: 2024\ncount: 1\n',
      'presets/b.conf': 'name: b\ncount: 1\n',
    });
    const catalog = await catalogIn(dir, `strict: true\n${SETTINGS}`);
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => p.name)).toEqual(['b']);
    expect(problems.map((p) => [p.code, p.isWarning])).toEqual([['preset_load_1009', false]]);
  });

  it("loads the original's tests/ preset with its tests' settings", async () => {
    const dir = tempDir();
    cpSync('test/fixtures/original-tests', dir, { recursive: true });
    const catalog = await catalogIn(dir, readFileSync(join(dir, 'settings.yaml'), 'utf8'));
    const { problems } = await catalog.refresh();
    expect(problems).toEqual([]);
    expect(catalog.get('test-preset')).toMatchObject({
      image: 'fedora-27',
      metaTags: { key1: 'value1' },
      extra: { project_name: 'my-project' },
    });
  });
});

describe('preset validation', () => {
  it('reports a broken file with its position and keeps managing the others', async () => {
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\n',
      'presets/b.conf': 'name: b\ncount: [1\n',
      'presets/c.conf': 'name: c\ncount: -1\n',
      'presets/d.conf': 'name: d\ncount: 1\nnetwork:\n  security_group: [web]\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => p.name)).toEqual(['a']);
    expect(codes(problems)).toEqual(['preset_load_1001', 'preset_load_1002', 'preset_load_1003']);
    const byCode = Object.fromEntries(problems.map((p) => [p.code, p]));
    expect(byCode.preset_load_1001!.at).toMatchObject({ file: expect.stringContaining('b.conf'), line: 3 });
    expect(byCode.preset_load_1002!.at).toMatchObject({
      file: expect.stringContaining('c.conf'),
      line: 2,
      col: 8,
    });
    expect(byCode.preset_load_1003!.at).toMatchObject({
      file: expect.stringContaining('d.conf'),
      line: 4,
      col: 3,
    });
    expect(byCode.preset_load_1003!.message).toContain("did you mean 'security_groups'");
  });

  it('warns about a top-level key that looks like a typo, and still manages the preset', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 1\nmanage_intervall: 0\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.get('a')).toBeDefined();
    expect(codes(problems)).toEqual(['preset_load_1006']);
    expect(problems[0]!.message).toContain("did you mean 'manage_interval'");
  });

  it('refuses flavor and flavour with different values', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 1\nflavor: x\nflavour: y\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    expect(codes((await catalog.refresh()).problems)).toEqual(['preset_load_1007']);
  });

  it('merges defaults deeply, and drops them when the preset names another driver', async () => {
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\niaas:\n  seed: 5\n',
      'presets/b.conf': 'name: b\ncount: 1\nhealthcheck:\n  driver: TcpHealthcheck\n  port: 22\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    await catalog.refresh();
    expect(catalog.get('a')!.iaas.options).toMatchObject({
      seed: 5,
      latency: 0,
      api_secret: 's3cret-from-defaults',
    });
    expect(catalog.get('b')!.healthcheck).toMatchObject({
      driver: 'TcpHealthcheck',
      options: { port: 22, timeout: 1 },
    });
  });

  it('shares the parts presets have alike, and only those', async () => {
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\n',
      'presets/b.conf': 'name: b\ncount: 2\nmeta_tags: {team: x}\n',
      'presets/c.conf': 'name: c\ncount: 1\niaas:\n  seed: 5\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    await catalog.refresh();
    const [a, b, c] = ['a', 'b', 'c'].map((n) => catalog.get(n)!);
    expect(b!.iaas).toBe(a!.iaas);
    expect(c!.healthcheck).toBe(a!.healthcheck);
    expect(c!.update).toBe(a!.update);
    expect(c!.iaas).not.toBe(a!.iaas);
    expect(c!.iaas.options).toMatchObject({ seed: 5 });
    expect(a!.iaas.options).not.toHaveProperty('seed', 5);
    expect(b!.metaTags).toEqual({ team: 'x' });
    expect(a!.metaTags).toEqual({});
  });

  it('rejects two files declaring one preset name, keeping the first', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: x\ncount: 1\n', 'presets/b.conf': 'name: x\ncount: 2\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    expect(codes((await catalog.refresh()).problems)).toEqual(['preset_load_1004']);
    expect(catalog.get('x')!.count).toBe(1);
  });
});

describe('userdata', () => {
  it('renders the original meta_tags.items() example', async () => {
    const dir = tempDir({
      'presets/a.conf': `name: a\ncount: 1\nmeta_tags: {role: db, zone: b}\nuserdata: "{% for key, value in meta_tags.items() %}{{ key }}: {{ value }}\\n{% endfor %}"\n`,
    });
    const catalog = await catalogIn(dir, SETTINGS);
    await catalog.refresh();
    expect(catalog.get('a')!.userdata).toBe('role: db\nzone: b\n');
  });

  it('never shows driver options or secrets to a template', async () => {
    const dir = tempDir({
      'presets/a.conf':
        'name: a\ncount: 1\nuserdata: "[{{ iaas.driver }}][{{ iaas.api_secret }}][{{ iaas }}][{{ healthcheck }}]"\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    await catalog.refresh();
    const userdata = catalog.get('a')!.userdata!;
    expect(userdata).toContain('[DummyIaasDriver]');
    expect(userdata).not.toContain('s3cret');
  });

  it('cannot run code from a template', async () => {
    const attempts = [
      "{{ ''.constructor.constructor('return process')().pid }}",
      "{{ name.constructor.constructor('return globalThis')() }}",
      '{{ meta_tags.__proto__ }}{{ meta_tags.constructor }}',
      "{% include '/etc/passwd' %}",
      '{{ cycler.__init__.__globals__ }}',
    ];
    for (const attempt of attempts) {
      const dir = tempDir({
        'presets/a.conf': `name: a\ncount: 1\nmeta_tags: {a: b}\nuserdata: ${JSON.stringify(attempt)}\n`,
      });
      const catalog = await catalogIn(dir, SETTINGS);
      const { problems } = await catalog.refresh();
      const out = catalog.get('a')?.userdata ?? '';
      expect(out).not.toMatch(/\d{2,}|object|function|root:/);
      if (!catalog.get('a')) expect(problems[0]!.code).toBe('preset_render_1001');
    }
  });

  it('keeps file:// inside the preset directory', async () => {
    const outside = tempDir({ 'secret.txt': 'TOP SECRET' });
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\nuserdata: file://../secret.txt\n',
      'presets/b.conf': `name: b\ncount: 1\nuserdata: file://${join(outside, 'secret.txt')}\n`,
      'presets/c.conf': 'name: c\ncount: 1\nuserdata: file://link.txt\n',
      'presets/d.conf': 'name: d\ncount: 1\nuserdata_source_root: /etc\nuserdata: file://hostname\n',
      'presets/e.conf': 'name: e\ncount: 1\nuserdata: file://missing.txt\n',
      'secret.txt': 'TOP SECRET',
    });
    symlinkSync(join(outside, 'secret.txt'), join(dir, 'presets/link.txt'));
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.presets()).toEqual([]);
    expect(codes(problems)).toEqual([
      'preset_render_1002',
      'preset_render_1002',
      'preset_render_1002',
      'preset_render_1002',
      'preset_render_2001',
    ]);
    expect(JSON.stringify(problems)).not.toContain('TOP SECRET');
  });

  it('reports a template error at the userdata key', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 1\nuserdata: "{{ foo( }}"\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(problems[0]).toMatchObject({ code: 'preset_render_1001', at: { line: 3, col: 11 } });
  });
});

describe('catalog refresh', () => {
  it('renders once per revision, again when the preset or its userdata file changes', async () => {
    const dir = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\nuserdata: file://ud.txt\n',
      'presets/ud.txt': 'hello {{ name }}',
      'presets/b.conf': 'name: b\ncount: 1\n',
    });
    const catalog = await catalogIn(dir, SETTINGS);
    expect((await catalog.refresh()).compiled).toBe(2);
    expect((await catalog.refresh()).compiled).toBe(0);
    writeFileSync(join(dir, 'presets/ud.txt'), 'bye {{ name }}');
    utimesSync(join(dir, 'presets/ud.txt'), new Date(), new Date(Date.now() + 5000));
    const report = await catalog.refresh();
    expect(report.compiled).toBe(1);
    expect(report.changed).toEqual(['a']);
    expect(catalog.get('a')!.userdata).toBe('bye a');
  });

  it('keeps the last good revision of a file that breaks, and reports both', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 2\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    await catalog.refresh();
    writeFileSync(join(dir, 'presets/a.conf'), 'name: a\ncount: two\n');
    utimesSync(join(dir, 'presets/a.conf'), new Date(), new Date(Date.now() + 5000));
    const { problems } = await catalog.refresh();
    expect(catalog.get('a')!.count).toBe(2);
    expect(codes(problems)).toEqual(['preset_load_1002', 'preset_load_1005']);
  });

  it('stops managing a preset whose file was removed', async () => {
    const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 2\n', 'presets/b.conf': 'name: b\ncount: 2\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    await catalog.refresh();
    const { rmSync } = await import('node:fs');
    rmSync(join(dir, 'presets/b.conf'));
    const report = await catalog.refresh();
    expect(report.removed).toEqual(['b']);
    expect(catalog.presets().map((p) => p.name)).toEqual(['a']);
  });
});

describe('credentials of the main configuration', () => {
  const settings = (extra = '') => `${extra}runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: OpenStackDriver, auth_url: 'http://keystone.example:5000/v3', username: svc, password: s3cret, project_name: p}
`;

  it("refuses a preset that points the driver elsewhere with the config's password, at the key", async () => {
    const dir = tempDir({
      'presets/a.conf': "name: a\ncount: 1\niaas:\n  auth_url: 'http://127.0.0.1:9/v3'\n",
      'presets/b.conf': "name: b\ncount: 1\niaas: {auth_url: 'http://127.0.0.1:9/v3', password: own}\n",
      'presets/c.conf': 'name: c\ncount: 1\niaas: {cacert: /tmp/evil-ca.pem}\n',
      'presets/d.conf': 'name: d\ncount: 1\niaas: {region_name: RegionTwo}\n',
    });
    const catalog = await catalogIn(dir, settings());
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => p.name)).toEqual(['b', 'd']);
    const refused = problems.filter((p) => p.code === 'preset_load_1012');
    expect(refused.map((p) => [p.at?.file.split('/').pop(), p.at?.line, p.at?.col])).toEqual([
      ['a.conf', 4, 13],
      ['c.conf', 3, 16],
    ]);
    expect(refused[0]!.message).toContain('sets auth_url but not its own password');
  });

  it('lets them when the main configuration allows it on purpose', async () => {
    const dir = tempDir({
      'presets/a.conf': "name: a\ncount: 1\niaas: {auth_url: 'http://127.0.0.1:9/v3'}\n",
    });
    const catalog = await catalogIn(dir, settings('presets_may_set_endpoints: true\n'));
    await catalog.refresh();
    expect(catalog.get('a')?.iaas.options.auth_url).toBe('http://127.0.0.1:9/v3');
  });

  it('refuses a preset with its own endpoint and password that would inherit an application credential', async () => {
    // Application credentials win over a password: the defaults' secret would go to the preset's auth_url.
    const appCred = `defaults:
  iaas: {driver: OpenStackDriver, auth_url: 'http://keystone.example:5000/v3', application_credential_id: ac1, application_credential_secret: ac-s3cret}
`;
    const dir = tempDir({
      'presets/a.conf':
        "name: a\ncount: 1\niaas: {auth_url: 'http://127.0.0.1:9/v3', username: me, password: own, project_name: p}\n",
      'presets/b.conf':
        "name: b\ncount: 1\niaas: {auth_url: 'http://127.0.0.1:9/v3', application_credential_id: mine, application_credential_secret: mine}\n",
    });
    const catalog = await catalogIn(
      dir,
      `runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets}\n${appCred}`,
    );
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => p.name)).toEqual(['b']);
    const refused = problems.filter((p) => p.code === 'preset_load_1012');
    expect(refused.map((p) => p.at?.file.split('/').pop())).toEqual(['a.conf']);
    expect(refused[0]!.message).toContain('inherits application_credential_secret');
  });

  it('refuses a preset with its own endpoint whose credentials would come from clouds.yaml or OS_*', async () => {
    const dir = tempDir({
      // `cloud:` inherited from the defaults: the clouds.yaml entry's secrets would follow the auth_url.
      'presets/a.conf': "name: a\ncount: 1\niaas: {auth_url: 'http://127.0.0.1:9/v3', password: own}\n",
      // Its own `cloud:`, with its own auth_url: the same.
      'presets/b.conf':
        "name: b\ncount: 1\niaas: {cloud: other, auth_url: 'http://127.0.0.1:9/v3', password: own}\n",
      'presets/c.conf': 'name: c\ncount: 1\niaas: {region_name: RegionTwo}\n',
    });
    const catalog = await catalogIn(
      dir,
      'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets}\ndefaults:\n  iaas: {driver: OpenStackDriver, cloud: prod}\n',
    );
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => p.name)).toEqual(['c']);
    const refused = problems.filter((p) => p.code === 'preset_load_1012');
    expect(refused.map((p) => p.message)).toEqual([
      expect.stringContaining("clouds.yaml entry 'prod'"),
      expect.stringContaining("clouds.yaml entry 'other'"),
    ]);
    // Without auth_url anywhere, the driver reads the OS_* environment: the operator's credentials.
    const env = tempDir({
      'presets/a.conf': 'name: a\ncount: 1\niaas: {cacert: /tmp/ca.pem, password: own}\n',
    });
    const envCatalog = await catalogIn(
      env,
      'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets}\ndefaults:\n  iaas: {driver: OpenStackDriver}\n',
    );
    const envReport = await envCatalog.refresh();
    expect(envCatalog.presets()).toEqual([]);
    expect(envReport.problems.map((p) => p.message)).toEqual([expect.stringContaining('OS_* environment')]);
  });

  it("refuses a simulator endpoint without the preset's own token", async () => {
    const dir = tempDir({ 'presets/a.conf': "name: a\ncount: 1\niaas: {endpoint: 'http://127.0.0.1:9'}\n" });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.get('a')).toBeUndefined();
    expect(problems.map((p) => p.code)).toContain('preset_load_1012');
  });
});

describe('a preset file too big to read', () => {
  it('is refused with its code before it is parsed, and the others are managed', async () => {
    let big = 'name: big\ncount: 1\n';
    for (let i = 0; big.length <= 300 * 1024; i++) big += `key_${i}: value number ${i}\n`;
    const dir = tempDir({ 'presets/big.conf': big, 'presets/a.conf': 'name: a\ncount: 1\n' });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => p.name)).toEqual(['a']);
    const [refused] = problems.filter((p) => p.code === 'preset_load_1013');
    expect(refused?.at).toMatchObject({ line: 1, col: 1 });
    expect(refused?.at?.file).toMatch(/big\.conf$/);
    expect(refused?.message).toContain('at most 262144');
  });

  it('refuses a file:// userdata template over 256 KiB before reading it, and reads one below', async () => {
    const comment = (bytes: number) => `{# ${'x'.repeat(bytes)} #}hello {{ name }}`;
    const dir = tempDir({
      'presets/big.conf': 'name: big\ncount: 1\nuserdata: file://big.txt\n',
      'presets/big.txt': comment(300 * 1024),
      'presets/fits.conf': 'name: fits\ncount: 1\nuserdata: file://fits.txt\n',
      'presets/fits.txt': comment(200 * 1024),
    });
    const catalog = await catalogIn(dir, SETTINGS);
    const { problems } = await catalog.refresh();
    expect(catalog.presets().map((p) => [p.name, p.userdata])).toEqual([['fits', 'hello fits']]);
    expect(problems.map((p) => [p.code, p.at?.file.split('/').pop(), p.at?.line])).toEqual([
      ['preset_render_1014', 'big.conf', 3],
    ]);
    expect(problems[0]?.message).toContain('at most 262144');
  });
});
