import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { GitRepoStore } from '../../src/drivers/presets/git-repo/store.js';
import { META_REVISION } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { runCli } from '../helpers/cli.js';
import { cloudVms, daemonIn, eventually, running } from '../helpers/daemon.js';
import { gitHttpServer, gitRemote } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const preset = (name: string, count: number) =>
  `name: ${name}\ncount: ${count}\nimage: img\nflavor: small\nmanage_interval: 0\n`;

describe('the daemon over GitRepoDriver', () => {
  it('creates VMs tagged with their commit, and leaves the VMs of a removed preset alone as orphans', async () => {
    const remote = gitRemote();
    const first = remote.commit({ 'web.conf': preset('web', 2), 'db.conf': preset('db', 1) });
    const dir = tempDir();
    writeFileSync(
      join(dir, 'settings.yaml'),
      `worker_interval: 0.1
runtime: {driver: InMemoryDriver}
presets:
  driver: GitRepoDriver
  repositories:
    team: {url: '${remote.url}', refresh_interval: 0.3}
  clone_dir: clones
manage: {refresh_interval: 3600}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0.05, seed: 5}
`,
    );
    const t = await daemonIn(dir);
    daemon = t.daemon;
    await daemon.start();
    expect(daemon.presets().map((p) => p.name)).toEqual(['team.db', 'team.web']);
    await eventually(
      () => cloudVms(),
      (vms) => running(vms.get('team.web')) === 2 && running(vms.get('team.db')) === 1,
      20_000,
    );
    // Each VM carries the commit it was built from; so does its `created` event and the API's VM list.
    for (const vm of [...(cloudVms().get('team.web') ?? []), ...(cloudVms().get('team.db') ?? [])])
      expect(vm.metadata[META_REVISION]).toBe(first);
    const state = parseState(await daemon.runtime.load('team.web'));
    const created = state.events.filter((e) => e.type === 'created');
    expect(created.length).toBe(2);
    expect(created.every((e) => e.revision === first)).toBe(true);
    expect(state.vms.every((v) => v.revision === first)).toBe(true);

    // A valid commit without db.conf: the preset is no longer managed, its VM is left alone.
    const second = remote.commit({ 'db.conf': null, 'web.conf': preset('web', 3) });
    await eventually(
      () => daemon!.presets().map((p) => `${p.name}@${p.source.revision}`),
      (names) => names.join() === `team.web@${second}`,
      20_000,
    );
    await eventually(
      () => cloudVms(),
      (vms) => running(vms.get('team.web')) === 3,
      20_000,
    );
    const orphanVm = cloudVms().get('team.db')?.[0];
    for (let i = 0; i < 5; i++) await daemon.runOnce();
    expect(
      cloudVms()
        .get('team.db')
        ?.map((v) => [v.id, v.state]),
    ).toEqual([[orphanVm?.id, 'running']]);
    const orphans = await daemon.orphans();
    expect(orphans.errors).toEqual([]);
    expect(orphans.vms).toEqual([
      expect.objectContaining({
        id: orphanVm?.id,
        preset: 'team.db',
        revision: first,
        driver: 'DummyIaasDriver',
        removed: expect.objectContaining({ file: `team@${first.slice(0, 12)}/db.conf`, revision: first }),
      }),
    ]);
    expect(t.logs.some((l) => l.code === 'preset_orphan_0001')).toBe(true);
    // The new web VM was built from the new commit.
    const revisions = new Set((cloudVms().get('team.web') ?? []).map((v) => v.metadata[META_REVISION]));
    expect(revisions).toEqual(new Set([first, second]));

    // Restoring the file adopts the VM again: nothing was lost.
    remote.commit({ 'db.conf': preset('db', 1) });
    await eventually(
      () => daemon!.presets().map((p) => p.name),
      (names) => names.includes('team.db'),
      20_000,
    );
    expect((await daemon.orphans()).vms).toEqual([]);
    for (let i = 0; i < 3; i++) await daemon.runOnce();
    expect(
      cloudVms()
        .get('team.db')
        ?.map((v) => v.id),
    ).toEqual([orphanVm?.id]);
  });

  it('never shows a repository credential in logs, problems, store status or `vmshepherd check`', async () => {
    const PASSWORD = 'pw-7c1e94d2b5a8';
    const TOKEN = 'tk-3f60a9e2c4d1';
    const remote = gitRemote();
    const commit = remote.commit({ 'web.conf': preset('web', 0) });
    const server = await gitHttpServer(remote.root, { username: 'deploy', password: PASSWORD });
    const url = `${server.url}/presets.git`;
    const dir = tempDir();
    writeFileSync(
      join(dir, 'settings.yaml'),
      `worker_interval: 0.1
runtime: {driver: InMemoryDriver}
presets:
  driver: GitRepoDriver
  clone_dir: clones
  repositories:
    good: '${url.replace('http://', `http://deploy:${PASSWORD}@`)}'
    wrong: '${url.replace('http://', 'http://deploy:not-the-password@')}'
    token: {url: '${url}', token_env: VMS_E2E_GIT_TOKEN, username: deploy}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0}
`,
    );
    process.env.VMS_E2E_GIT_TOKEN = TOKEN;
    try {
      const t = await daemonIn(dir);
      daemon = t.daemon;
      await daemon.start();
      expect(daemon.presets().map((p) => `${p.name}@${p.source.revision}`)).toEqual([`good.web@${commit}`]);
      const problems = daemon.catalog.problems();
      expect(problems.map((p) => p.code).sort()).toEqual(['git_fetch_0001', 'git_fetch_0001']);
      await daemon.runOnce();
      const status = (daemon.presetStore as GitRepoStore).status();
      expect(status.map((s) => s.url)).toContain(url.replace('http://', 'http://deploy:***@'));
      const cli = await runCli(['check', '-c', join(dir, 'settings.yaml'), '--output', 'json'], dir, {
        VMS_E2E_GIT_TOKEN: TOKEN,
      });
      expect(JSON.parse(cli.stdout).presets).toHaveLength(1);
      const shown = [
        JSON.stringify(t.logs),
        JSON.stringify(problems),
        problems.map((p) => `${p.message} ${String(p.cause)}`).join('\n'),
        JSON.stringify(status),
        cli.stdout,
        cli.stderr,
      ].join('\n');
      expect(shown).toContain('git_fetch_0001');
      for (const secret of [PASSWORD, TOKEN, 'not-the-password']) expect(shown).not.toContain(secret);
    } finally {
      delete process.env.VMS_E2E_GIT_TOKEN;
      await server.close();
    }
  });
});
