import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { GitRemote } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

/**
 * The three configurations VmShepherd 1.6 shipped (config/*.example.yaml, with its example preset),
 * unchanged, run from the directory above `config/` as the original was run from its repository.
 */
const examples = () => {
  const dir = tempDir();
  cpSync('test/fixtures/original-examples', dir, { recursive: true });
  return dir;
};

const PRESET_WARNINGS = [
  /config\/presets\.d\/C_DEV-app-dev\.conf:15:3: warning driver_options_1002: .*iaas: 'project_name' is not read by DummyIaasDriver \(OpenStackDriver reads it\)/,
  /config\/presets\.d\/C_DEV-app-dev\.conf:16:3: warning driver_options_1002: .*iaas: 'project_domain_name' is not read by DummyIaasDriver \(OpenStackDriver reads it\)/,
];

const logLines = (stdout: string) =>
  stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/**
 * The git example's repository is on DreamLab's network: git is pointed at a local repository holding the
 * example preset instead (`url.<local>.insteadOf` in the HOME git reads), so the file stays unchanged.
 */
function gitHome(): NodeJS.ProcessEnv {
  const root = tempDir();
  const remote = new GitRemote(join(root, 'scm', 'paas'), 'vms-paas-presets');
  remote.commit({
    'C_DEV-app-dev.conf': readFileSync(
      'test/fixtures/original-examples/config/presets.d/C_DEV-app-dev.conf',
      'utf8',
    ),
  });
  const home = join(root, 'home');
  mkdirSync(home);
  writeFileSync(
    join(home, '.gitconfig'),
    `[url "file://${root}/scm/paas/"]\n\tinsteadOf = http://kwarunek@stash.grupa.onet/scm/paas/\n`,
  );
  const tmp = join(root, 'tmp');
  mkdirSync(tmp);
  return { HOME: home, TMPDIR: tmp, XDG_CONFIG_HOME: join(home, '.config') };
}

describe("the original's example configurations, unchanged", () => {
  it('settings.example.yaml passes check with warnings only, and its preset is managed', async () => {
    const dir = examples();
    const check = await runCli(['check', '-c', 'config/settings.example.yaml'], dir);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('1 preset(s) valid: C_DEV-app-dev');
    for (const warning of PRESET_WARNINGS) expect(check.stderr).toMatch(warning);
    expect(check.stderr).not.toMatch(/(^| )error /m);
    const run = await runCli(['-c', 'config/settings.example.yaml', '-1', '-p', '0'], dir);
    expect(run.code).toBe(0);
    expect(logLines(run.stdout).find((l) => l.msg === 'cycle')).toMatchObject({ managed: 1, created: 1 });
  });

  it('settings-openstack.example.yaml passes check (image_owner_ids and all)', async () => {
    const check = await runCli(['check', '-c', 'config/settings-openstack.example.yaml'], examples());
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('1 preset(s) valid: C_DEV-app-dev');
    expect(check.stderr).toBe('');
  });

  it('settings-git.example.yaml passes check, and the presets of its repository are managed', async () => {
    const dir = examples();
    const env = gitHome();
    const check = await runCli(['check', '-c', 'config/settings-git.example.yaml'], dir, env);
    expect(check.stderr).not.toMatch(/(^| )error /m);
    expect(check.code).toBe(0);
    expect(check.stdout).toContain('1 preset(s) valid: paas.C_DEV-app-dev');
    expect(check.stderr).toMatch(
      /warning driver_options_1002: .*iaas: 'project_name' is not read by DummyIaasDriver/,
    );
    const run = await runCli(['-c', 'config/settings-git.example.yaml', '-1', '-p', '0'], dir, env);
    expect(run.code).toBe(0);
    expect(logLines(run.stdout).find((l) => l.msg === 'cycle')).toMatchObject({ managed: 1, created: 1 });
  });

  it("tests/common.py's configuration runs, the daemon logging its warnings", async () => {
    const dir = tempDir();
    cpSync('test/fixtures/original-tests', dir, { recursive: true });
    const run = await runCli(['-c', 'settings.yaml', '-1'], dir);
    expect(run.code).toBe(0);
    const lines = logLines(run.stdout);
    expect(lines.find((l) => l.code === 'config_load_1005')).toMatchObject({
      level: 40,
      at: { file: 'settings.yaml', line: 2, col: 1 },
    });
    expect(lines.find((l) => l.msg === 'cycle')).toMatchObject({ managed: 1, created: 1 });
  });
});
