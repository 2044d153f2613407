import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { META_REVISION } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { cloudVms, daemonIn, eventually, running } from '../helpers/daemon.js';
import { gitRemote } from '../helpers/git.js';
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
});
