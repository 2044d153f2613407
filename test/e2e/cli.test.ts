import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, startCli } from '../helpers/cli.js';
import { eventually } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

const original = () => {
  const dir = tempDir();
  cpSync('test/fixtures/original', dir, { recursive: true });
  return dir;
};

describe('vmshepherd CLI', () => {
  it('check: validates the original configuration and its presets', async () => {
    const r = await runCli(['check', '-c', 'settings.yaml'], original());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('2 preset(s) valid: C_DEV-app-dev, web-prod');
    expect(r.stdout).toContain('configuration OK');
  });

  it('check: lists every error as file:line:col with its code, and exits 1', async () => {
    const dir = original();
    writeFileSync(
      join(dir, 'presets.d/broken.conf'),
      'name: broken\ncount: 2\nflavor: x\nmanage_intervall: 3\niaas:\n  latncy: 1\n',
    );
    writeFileSync(
      join(dir, 'presets.d/net.conf'),
      'name: net\ncount: 1\nnetwork:\n  security_group: [web]\n',
    );
    writeFileSync(join(dir, 'presets.d/bad-yaml.conf'), 'name: [x\n');
    const r = await runCli(['check', '-c', 'settings.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(
      /presets\.d\/net\.conf:4:3: error preset_load_1003: .*'network\.security_group' \(did you mean 'security_groups'\?\)/,
    );
    expect(r.stderr).toMatch(/presets\.d\/broken\.conf:4:1: warning preset_load_1006: /);
    expect(r.stderr).toMatch(
      /presets\.d\/broken\.conf:6:3: warning driver_options_1002: .*iaas: 'latncy' is not read by DummyIaasDriver \(did you mean 'latency'\?\)/,
    );
    expect(r.stderr).toMatch(/presets\.d\/bad-yaml\.conf:2:1: error preset_load_1001: /);
    expect(r.stdout).toContain('2 error(s)');
    const json = JSON.parse((await runCli(['check', '-c', 'settings.yaml', '--output', 'json'], dir)).stdout);
    expect(json.ok).toBe(false);
    expect(json.errors.map((e: { code: string }) => e.code).sort()).toEqual([
      'preset_load_1001',
      'preset_load_1003',
    ]);
    expect(json.warnings.map((e: { code: string }) => e.code).sort()).toEqual([
      'driver_options_1002',
      'preset_load_1006',
    ]);
    expect(json.presets.map((p: { name: string }) => p.name)).toEqual([
      'C_DEV-app-dev',
      'broken',
      'web-prod',
    ]);
  });

  it('check: lists a count that follows demand with its bounds, its floor as the count', async () => {
    const dir = tempDir({
      'settings.yaml': 'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: p}\n',
      'p/web.conf':
        "name: web\nimage: img\nflavor: m1.small\niaas: {driver: DummyIaasDriver}\ncount:\n  min: 2\n  max: 10\n  schedule:\n    - {cron: '0 8 * * *', timezone: Europe/Warsaw, duration: 3600, min: 4, max: 8}\n",
    });
    const r = await runCli(['check', '-c', 'settings.yaml', '--output', 'json'], dir);
    expect(r.code, r.stderr).toBe(0);
    const [web] = JSON.parse(r.stdout).presets;
    expect(web).toMatchObject({ name: 'web', count: 2, demand: { min: 2, max: 10 } });
  });

  it('check: reports a broken main configuration', async () => {
    const dir = tempDir({
      'settings.yaml':
        'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: p}\nworker_interval: soon\n',
    });
    const r = await runCli(['check', '-c', 'settings.yaml'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('settings.yaml:3:18: error config_load_1002: ');
  });

  it('check: warns about a key the original ignored, and --strict makes it an error', async () => {
    const dir = tempDir({
      'settings.yaml':
        'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: p}\nworkr_interval: 3\n',
      'p/.keep': '',
    });
    const r = await runCli(['check', '-c', 'settings.yaml'], dir);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "settings.yaml:3:1: warning config_load_1005: A configuration key vmshepherd does not read, ignored as the original ignored it: 'workr_interval' (did you mean 'worker_interval'?)",
    );
    const strict = await runCli(['check', '-c', 'settings.yaml', '--strict'], dir);
    expect(strict.code).toBe(1);
    expect(strict.stderr).toContain('settings.yaml:3:1: error config_load_1005: ');
  });

  it('plan: prints what one cycle would do, and does nothing', async () => {
    const dir = original();
    const r = await runCli(['plan', '-c', 'settings.yaml', '--preset', 'web-prod'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('web-prod (count 3');
    expect(r.stdout).toContain('create 3');
    const json = JSON.parse((await runCli(['plan', '-c', 'settings.yaml', '--output', 'json'], dir)).stdout);
    expect(json.map((p: { preset: string; create: number }) => [p.preset, p.create])).toEqual([
      ['C_DEV-app-dev', 2],
      ['web-prod', 3],
    ]);
    const missing = await runCli(['plan', '-c', 'settings.yaml', '--preset', 'nope'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('cli_preset_1001');
  });

  it('plan: shows the rollout step when the spec changed', async () => {
    const dir = tempDir({
      'settings.yaml': `runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0, state_file: cloud.json}
  healthcheck: {driver: DummyHealthcheck}
`,
      'presets/web.conf': 'name: web\ncount: 2\nimage: img-1\nmanage_interval: 0\n',
    });
    expect((await runCli(['-c', 'settings.yaml', '-1'], dir)).code).toBe(0);
    writeFileSync(join(dir, 'presets/web.conf'), 'name: web\ncount: 2\nimage: img-2\nmanage_interval: 0\n');
    const r = await runCli(['plan', '-c', 'settings.yaml'], dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('rollout (replace): 2 outdated VMs; 2 ready, keeps at least 2');
    expect(r.stdout).toContain('this step: start 1 of the new spec');
    expect(r.stdout).toContain('budget: 0 of 0 unavailable, room 0');
    const json = JSON.parse((await runCli(['plan', '-c', 'settings.yaml', '--output', 'json'], dir)).stdout);
    expect(json[0].rollout).toMatchObject({ active: true, outdated: 2, strategy: 'replace' });
    expect(json[0].budget).toMatchObject({ limit: 0, unavailable: 0, room: 0, holders: [], spent: [] });
  });

  it('render: prints the rendered userdata', async () => {
    const r = await runCli(['render', '-c', 'settings.yaml', '--preset', 'web-prod'], original());
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      '#cloud-config\n# web-prod in production\nwrite_files:\n  - path: /etc/tags\n    content: |\n      service=web\n      owner=team-a\n',
    );
  });

  it('drivers: lists built-in and plugin drivers with kind and origin', async () => {
    const r = await runCli(['drivers']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/iaas\s+DummyIaasDriver\s+built-in/);
    expect(r.stdout).toMatch(/runtime\s+InMemoryDriver\s+built-in/);
    expect(r.stdout).toMatch(/iaas\s+FixtureCloudDriver\s+npm:vmshepherd-plugin-fixture@1\.2\.3/);
    const json = JSON.parse((await runCli(['drivers', '--output', 'json'])).stdout);
    expect(json.drivers.map((d: { name: string }) => d.name)).toEqual(
      expect.arrayContaining([
        'DummyIaasDriver',
        'DirectoryDriver',
        'InMemoryDriver',
        'DummyHealthcheck',
        'HttpHealthcheck',
        'TcpHealthcheck',
      ]),
    );
  });

  it('run -1: runs one cycle and exits 0', async () => {
    const r = await runCli(['-c', 'settings.yaml', '-1', '-l', 'debug'], original());
    expect(r.code).toBe(0);
    const lines = r.stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l));
    expect(lines.find((l) => l.msg === 'cycle')).toMatchObject({ managed: 2, created: 5 });
    expect(lines.some((l) => l.level === 20)).toBe(true); // -l debug overrode log_level: info
  });

  it('reloads on SIGHUP (keeping the old configuration when the new one is broken) and stops on SIGTERM', async () => {
    const dir = original();
    const d = startCli(['-c', 'settings.yaml'], dir);
    try {
      await eventually(
        () => d.lines.filter((l) => l.msg === 'cycle').length,
        (n) => n >= 2,
        10_000,
      );
      writeFileSync(
        join(dir, 'settings.yaml'),
        'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets.d}\nworker_interval: soon\n',
      );
      d.child.kill('SIGHUP');
      await eventually(
        () => d.lines.filter((l) => String(l.msg).startsWith('reload rejected')),
        (l) => l.length > 0,
        5000,
      );
      const cycles = d.lines.filter((l) => l.msg === 'cycle').length;
      await eventually(
        () => d.lines.filter((l) => l.msg === 'cycle').length,
        (n) => n > cycles + 1,
        10_000,
      );
      cpSync('test/fixtures/original/settings.yaml', join(dir, 'settings.yaml'));
      d.child.kill('SIGHUP');
      await eventually(() => d.lines.some((l) => l.msg === 'configuration reloaded'), Boolean, 5000);
      d.child.kill('SIGTERM');
      expect(await d.exited).toBe(0);
      expect(d.lines.some((l) => l.msg === 'vmshepherd stopped')).toBe(true);
    } finally {
      d.child.kill('SIGKILL');
    }
  });
});
