import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { GitRepoStore } from '../../src/drivers/presets/git-repo/store.js';
import { daemonIn, eventually } from '../helpers/daemon.js';
import { gitRemote } from '../helpers/git.js';
import { tempDir } from '../helpers/tmp.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const preset = (name: string) => `name: ${name}\ncount: 0\nimage: img\nmanage_interval: 0\n`;
const settings = (presets: string) => `worker_interval: 0.05
runtime: {driver: InMemoryDriver}
presets:
${presets.replace(/^/gm, '  ')}
manage: {refresh_interval: 3600}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0}
`;

/** Counts the daemon's reads of its preset store from now on. */
function countLoads(d: Daemon): () => number {
  const store = d.presetStore;
  const load = store.load.bind(store);
  let loads = 0;
  store.load = (options) => {
    loads++;
    return load(options);
  };
  return () => loads;
}

async function cycles(d: Daemon, n: number): Promise<void> {
  let seen = 0;
  await new Promise<void>((done) => {
    d.onCycle = () => {
      if (++seen === n) done();
    };
  });
}

describe('presets are reloaded on change, never on the manage cycle', () => {
  it('DirectoryDriver: watched directory, no read per cycle', async () => {
    const dir = tempDir({ 'presets/a.conf': preset('a') });
    writeFileSync(join(dir, 'settings.yaml'), settings('driver: DirectoryDriver\npath: presets'));
    const t = await daemonIn(dir);
    daemon = t.daemon;
    await daemon.start();
    const loads = countLoads(daemon);
    await cycles(daemon, 10);
    expect(loads()).toBe(0);
    writeFileSync(join(dir, 'presets', 'b.conf'), preset('b'));
    await eventually(
      () => daemon!.presets().map((p) => p.name),
      (names) => names.join() === 'a,b',
      10_000,
    );
    expect(loads()).toBeGreaterThan(0);
  });

  it('GitRepoDriver: fetched on its own interval, no git and no read per cycle', async () => {
    const remote = gitRemote();
    remote.commit({ 'a.conf': preset('a') });
    const dir = tempDir();
    writeFileSync(
      join(dir, 'settings.yaml'),
      settings(
        `driver: GitRepoDriver\nclone_dir: clones\nrepositories:\n  team: {url: '${remote.url}', refresh_interval: 3600}`,
      ),
    );
    const t = await daemonIn(dir);
    daemon = t.daemon;
    await daemon.start();
    const store = daemon.presetStore as GitRepoStore;
    const fetchedAt = store.status()[0]?.lastFetchAt;
    const loads = countLoads(daemon);
    await cycles(daemon, 10);
    expect(loads()).toBe(0);
    expect(store.status()[0]?.lastFetchAt).toBe(fetchedAt);
    // A fetch that brings a new commit reloads the presets at once (the store tells the daemon).
    remote.commit({ 'b.conf': preset('b') });
    await store.refreshAll();
    await eventually(
      () => daemon!.presets().map((p) => p.name),
      (names) => names.join() === 'team.a,team.b',
      10_000,
    );
    expect(loads()).toBeGreaterThan(0);
  });
});
