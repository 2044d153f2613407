import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { catalogFor } from '../../src/daemon/catalog-for.js';
import type { GitRepoStore } from '../../src/drivers/presets/git-repo/store.js';
import { DriverRegistry } from '../../src/drivers/registry.js';
import { gitDaemon, gitRemote } from '../helpers/git.js';
import { gitStore } from '../helpers/git-store.js';
import { tempDir } from '../helpers/tmp.js';

const WEB = 'name: web\ncount: 2\nimage: ubuntu\nuserdata: file://userdata/web.yaml\n';
const DB = 'name: db\ncount: 1\nimage: debian\n';
const codes = (errors: Error[]) => errors.map((e) => (e as { code?: string }).code);

/** The catalog the daemon builds over a GitRepoDriver store (defaults, validation, userdata). */
async function catalogOver(store: GitRepoStore) {
  const registry = new DriverRegistry([process.cwd()]);
  const settings = `runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: .}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0}
`;
  const dir = tempDir();
  const { config } = await parseConfig(settings, join(dir, 'settings.yaml'), registry, { env: {} });
  if (!config) throw new Error('bad settings');
  return catalogFor(config, registry, store);
}

describe('GitRepoDriver', () => {
  it('clones a repository over file:// and names its presets <key>.<name>, revision = commit', async () => {
    const remote = gitRemote();
    const commit = remote.commit({
      'web.conf': WEB,
      'db.conf': DB,
      'userdata/web.yaml': '#cloud-config\nhostname: {{ name }}\n',
      'README.md': 'not a preset',
    });
    const { store } = await gitStore({ repositories: { team: remote.url } });
    const catalog = await catalogOver(store);
    const report = await catalog.refresh();
    expect(report.problems).toEqual([]);
    expect(catalog.presets().map((p) => p.name)).toEqual(['team.db', 'team.web']);
    const web = catalog.get('team.web');
    expect(web?.source.revision).toBe(commit);
    expect(web?.source.file).toBe(`team@${commit.slice(0, 12)}/web.conf`);
    // file:// userdata is read from the clone, rendered with the prefixed name.
    expect(web?.userdata).toBe('#cloud-config\nhostname: team.web');
    await store.close();
  });

  it('reads a path subdirectory of a branch, with file:// userdata relative to it', async () => {
    const remote = gitRemote();
    remote.commit({ 'top.conf': DB });
    const staging = remote.commit(
      {
        'presets/web.conf': WEB,
        'presets/userdata/web.yaml': 'staging {{ name }}',
        'other/x.conf': DB,
      },
      'staging',
    );
    const { store } = await gitStore({
      repositories: { team: { url: remote.url, branch: 'staging', path: 'presets' } },
    });
    const catalog = await catalogOver(store);
    await catalog.refresh();
    expect(catalog.presets().map((p) => [p.name, p.source.revision, p.userdata])).toEqual([
      ['team.web', staging, 'staging team.web'],
    ]);
    expect(catalog.get('team.web')?.source.file).toBe(`team@${staging.slice(0, 12)}/presets/web.conf`);
    await store.close();
  });

  it('follows a new commit, recompiling only what changed', async () => {
    const remote = gitRemote();
    const first = remote.commit({ 'web.conf': WEB, 'db.conf': DB, 'userdata/web.yaml': 'v1' });
    const { store } = await gitStore({ repositories: { team: remote.url }, refresh_interval: 3600 });
    const catalog = await catalogOver(store);
    expect((await catalog.refresh()).compiled).toBe(2);
    const second = remote.commit({ 'db.conf': DB.replace('count: 1', 'count: 3') });
    // Nothing fetched yet: loads serve the last fetched state and run no git.
    expect((await catalog.refresh()).compiled).toBe(0);
    await store.refreshAll();
    const report = await catalog.refresh();
    expect(report.compiled).toBe(1);
    expect(report.changed).toEqual(['team.db']);
    expect(catalog.get('team.db')?.count).toBe(3);
    expect(catalog.get('team.db')?.source.revision).toBe(second);
    // web.conf did not change: it keeps the commit its content came from.
    expect(catalog.get('team.web')?.source.revision).toBe(first);
    // A change of a shared file (userdata) recompiles the presets that may read it.
    const third = remote.commit({ 'userdata/web.yaml': 'v2' });
    await store.refreshAll();
    expect((await catalog.refresh()).compiled).toBe(2);
    expect(catalog.get('team.web')?.userdata).toBe('v2');
    expect(catalog.get('team.web')?.source.revision).toBe(third);
    await store.close();
  });

  it('switches branch when the configuration names another one', async () => {
    const remote = gitRemote();
    remote.commit({ 'web.conf': WEB, 'userdata/web.yaml': 'x' });
    const other = remote.commit({ 'web.conf': WEB.replace('count: 2', 'count: 7') }, 'blue');
    const dir = tempDir();
    const main = await gitStore({ repositories: { team: remote.url } }, dir);
    const before = await catalogOver(main.store);
    await before.refresh();
    expect(before.get('team.web')?.count).toBe(2);
    await main.store.close();
    // Same clone_dir, another branch (a reload builds a new store over the same clone).
    const blue = await gitStore({ repositories: { team: { url: remote.url, branch: 'blue' } } }, dir);
    const catalog = await catalogOver(blue.store);
    await catalog.refresh();
    expect(catalog.get('team.web')?.count).toBe(7);
    expect(catalog.get('team.web')?.source.revision).toBe(other);
    await blue.store.close();
  });

  it('follows a commit id given as ref', async () => {
    const remote = gitRemote();
    const pinned = remote.commit({ 'web.conf': DB });
    remote.commit({ 'web.conf': DB.replace('count: 1', 'count: 9') });
    const { store } = await gitStore({ repositories: { team: { url: remote.url, ref: pinned } } });
    const { sources, errors } = await store.load();
    expect(errors).toEqual([]);
    expect(sources.map((s) => s.revision)).toEqual([pinned]);
    await store.close();
  });

  it('refuses a force-push of garbage and keeps managing the last good commit', async () => {
    const remote = gitRemote();
    const good = remote.commit({ 'web.conf': WEB, 'db.conf': DB, 'userdata/web.yaml': 'x' });
    const { store, logs } = await gitStore({ repositories: { team: remote.url }, refresh_interval: 3600 });
    const catalog = await catalogOver(store);
    await catalog.refresh();
    expect(catalog.presets()).toHaveLength(2);

    const garbages: Record<string, string>[] = [
      { 'README.md': 'oops, wrong repository' },
      { 'web.conf': '{{{ not yaml', 'db.conf': '- a list\n- not a preset\n' },
    ];
    for (const garbage of garbages) {
      const bad = remote.forcePush(garbage);
      await store.refreshAll();
      const report = await catalog.refresh();
      expect(report.removed).toEqual([]);
      expect(catalog.presets().map((p) => [p.name, p.source.revision])).toEqual([
        ['team.db', good],
        ['team.web', good],
      ]);
      const problem = report.problems.find((p) => p.code === 'git_accept_1001');
      expect(problem?.message).toContain(`team (${remote.url}): commit ${bad.slice(0, 12)}`);
      expect(problem?.message).toContain(`still managing commit ${good.slice(0, 12)}`);
      expect(problem?.details).toMatchObject({ repository: 'team', commit: good, refused: bad });
    }
    expect(logs.join('')).toContain('git_accept_1001');

    // A force-push of valid presets is accepted (history rewrites happen); a removed preset is dropped.
    const rewritten = remote.forcePush({
      'web.conf': WEB.replace('count: 2', 'count: 4'),
      'userdata/web.yaml': 'y',
    });
    await store.refreshAll();
    const report = await catalog.refresh();
    expect(report.problems).toEqual([]);
    expect(report.removed).toEqual(['team.db']);
    expect(catalog.get('team.web')?.source.revision).toBe(rewritten);
    await store.close();
  });

  it('never reads a preset file over the size limit, not even to judge its commit', async () => {
    let big = 'name: big\ncount: 1\n';
    for (let i = 0; big.length <= 300 * 1024; i++) big += `key_${i}: value number ${i}\n`;
    const remote = gitRemote();
    const good = remote.commit({ 'web.conf': WEB, 'userdata/web.yaml': 'x' });
    const { store } = await gitStore({ repositories: { team: remote.url }, refresh_interval: 3600 });
    const catalog = await catalogOver(store);
    await catalog.refresh();
    // Its only preset is too big to read: the commit is garbage, the last good one stays.
    const bad = remote.forcePush({ 'a.conf': big, 'z.conf': 'count: 1\n' });
    await store.refreshAll();
    let report = await catalog.refresh();
    const refused = report.problems.find((p) => p.code === 'git_accept_1001');
    expect(refused?.message).toContain(`commit ${bad.slice(0, 12)}`);
    expect(refused?.message).toContain('1 over the preset size limit, not read');
    expect(catalog.presets().map((p) => [p.name, p.source.revision])).toEqual([['team.web', good]]);
    // Beside a preset it can read, the big file is refused at its first line, and the other one served.
    const next = remote.forcePush({ 'a.conf': big, 'db.conf': DB });
    await store.refreshAll();
    report = await catalog.refresh();
    const tooLarge = report.problems.find((p) => p.code === 'preset_load_1013');
    expect(tooLarge?.at).toEqual({ file: `team@${next.slice(0, 12)}/a.conf`, line: 1, col: 1 });
    expect(catalog.get('team.db')?.source.revision).toBe(next);
    await store.close();
  });

  it('reports an invalid preset of a new commit by file:line:col and uses the others of that commit', async () => {
    const remote = gitRemote();
    const good = remote.commit({ 'web.conf': WEB, 'db.conf': DB, 'userdata/web.yaml': 'x' });
    const { store } = await gitStore({ repositories: { team: remote.url }, refresh_interval: 3600 });
    const catalog = await catalogOver(store);
    await catalog.refresh();
    const next = remote.commit({
      'web.conf': 'name: web\ncount: many\nimage: ubuntu\n',
      'db.conf': DB.replace('count: 1', 'count: 5'),
    });
    await store.refreshAll();
    const report = await catalog.refresh();
    const invalid = report.problems.find((p) => p.code === 'preset_load_1002');
    expect(invalid?.at).toEqual({ file: `team@${next.slice(0, 12)}/web.conf`, line: 2, col: 8 });
    expect(invalid?.message).toContain(`team@${next.slice(0, 12)}/web.conf:2:8`);
    expect(report.problems.map((p) => p.code)).toContain('preset_load_1005');
    // The broken file keeps its last good revision; the other file of the commit is used.
    expect(catalog.get('team.web')?.source.revision).toBe(good);
    expect(catalog.get('team.web')?.count).toBe(2);
    expect(catalog.get('team.db')?.source.revision).toBe(next);
    expect(catalog.get('team.db')?.count).toBe(5);
    await store.close();
  });

  it('keeps the presets when the remote becomes unreachable, also across a restart', async () => {
    const remote = gitRemote();
    const daemon = await gitDaemon(remote.root);
    const commit = remote.commit({ 'web.conf': WEB, 'userdata/web.yaml': 'x' });
    const dir = tempDir();
    const options = { repositories: { team: `${daemon.url}/presets.git` }, refresh_interval: 3600 };
    const first = await gitStore(options, dir);
    const catalog = await catalogOver(first.store);
    await catalog.refresh();
    await daemon.close();

    await first.store.refreshAll();
    const report = await catalog.refresh();
    expect(report.removed).toEqual([]);
    expect(catalog.get('team.web')?.source.revision).toBe(commit);
    const problem = report.problems.find((p) => p.code === 'git_fetch_2001');
    expect(problem?.message).toContain(`team (${daemon.url}/presets.git)`);
    expect(problem?.message).toContain(`still managing commit ${commit.slice(0, 12)}`);
    await first.store.close();

    // A restart while the server is still down serves the last good commit kept in clone_dir.
    const second = await gitStore(options, dir);
    const again = await catalogOver(second.store);
    const after = await again.refresh();
    expect(again.get('team.web')?.source.revision).toBe(commit);
    expect(after.problems.map((p) => p.code)).toEqual(['git_fetch_2001']);
    await second.store.close();
  });

  it('reports a first fetch that fails, and serves the other repositories', async () => {
    const remote = gitRemote();
    remote.commit({ 'web.conf': DB });
    const { store } = await gitStore({
      repositories: { team: remote.url, other: 'file:///nonexistent/x.git' },
    });
    const { sources, errors } = await store.load();
    expect(sources.map((s) => s.id)).toEqual(['team:web.conf']);
    expect(codes(errors)).toEqual(['git_fetch_2001']);
    expect(errors[0]?.message).toContain('other (file:///nonexistent/x.git)');
    expect(errors[0]?.message).toContain('no commit of this repository is loaded yet');
    await store.close();
  });

  it('reports a missing branch with its own code', async () => {
    const remote = gitRemote();
    remote.commit({ 'web.conf': DB });
    const { store } = await gitStore({ repositories: { team: { url: remote.url, branch: 'nope' } } });
    const { errors } = await store.load();
    expect(codes(errors)).toEqual(['git_fetch_0002']);
    await store.close();
  });

  it('fetches shallow by default and the whole history with depth 0', async () => {
    const remote = gitRemote();
    remote.commit({ 'web.conf': DB });
    remote.commit({ 'db.conf': DB.replace('name: db', 'name: db2') });
    const shallow = await gitStore({ repositories: { team: remote.url } });
    await shallow.store.load();
    const full = await gitStore({ repositories: { team: remote.url }, depth: 0 });
    await full.store.load();
    const isShallow = (cloneDir: string) =>
      execFileSync('git', ['-C', join(cloneDir, 'team'), 'rev-parse', '--is-shallow-repository'], {
        encoding: 'utf8',
      }).trim();
    expect(isShallow(shallow.cloneDir)).toBe('true');
    expect(isShallow(full.cloneDir)).toBe('false');
    await shallow.store.close();
    await full.store.close();
  });

  it('fetches on its own interval and tells its watcher, without any load', async () => {
    const remote = gitRemote();
    remote.commit({ 'web.conf': DB });
    const { store } = await gitStore({ repositories: { team: remote.url }, refresh_interval: 0.2 });
    await store.load();
    let changes = 0;
    store.watch(() => changes++);
    const next = remote.commit({ 'db.conf': DB.replace('name: db', 'name: db2') });
    const deadline = Date.now() + 10_000;
    while (changes === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(changes).toBeGreaterThan(0);
    expect(store.status()[0]?.commit).toBe(next);
    await store.close();
  });

  it('keeps only the served snapshot and the previous one on disk', async () => {
    const remote = gitRemote();
    remote.commit({ 'web.conf': DB });
    const { store, cloneDir } = await gitStore({
      repositories: { team: remote.url },
      refresh_interval: 3600,
    });
    await store.load();
    for (const n of [2, 3, 4, 5]) {
      remote.commit({ 'web.conf': DB.replace('count: 1', `count: ${n}`) });
      await store.refreshAll();
    }
    expect(readdirSync(join(cloneDir, 'team.trees'))).toHaveLength(2);
    expect(existsSync(join(cloneDir, 'team', 'HEAD'))).toBe(true);
    await store.close();
  });

  it('writes symbolic links as plain files, so userdata cannot read files of the machine', async () => {
    const remote = gitRemote();
    remote.commit({ 'web.conf': WEB });
    execFileSync('mkdir', ['-p', join(remote.work, 'userdata')]);
    execFileSync('ln', ['-s', '/etc/hostname', join(remote.work, 'userdata', 'web.yaml')]);
    const commit = remote.commit({});
    const { store } = await gitStore({ repositories: { team: remote.url } });
    const catalog = await catalogOver(store);
    await catalog.refresh();
    expect(catalog.get('team.web')?.source.revision).toBe(commit);
    expect(catalog.get('team.web')?.userdata).toBe('/etc/hostname');
    await store.close();
  });

  it('reuses a clone the original left in clone_dir, and never touches a directory that is not one', async () => {
    const remote = gitRemote();
    const first = remote.commit({ 'web.conf': DB });
    const dir = tempDir();
    mkdirSync(join(dir, 'clones'));
    execFileSync('git', ['clone', '--quiet', remote.bare, join(dir, 'clones', 'team')]);
    mkdirSync(join(dir, 'clones', 'other'));
    writeFileSync(join(dir, 'clones', 'other', 'notes.txt'), 'mine');
    const next = remote.commit({ 'db.conf': DB.replace('name: db', 'name: db2') });
    const { store } = await gitStore({ repositories: { team: remote.url, other: remote.url } }, dir);
    const { sources, errors } = await store.load();
    expect(sources.filter((s) => s.id.startsWith('team:')).map((s) => s.revision)).toEqual([next, next]);
    // The original's working tree is left as it was.
    expect(
      execFileSync('git', ['-C', join(dir, 'clones', 'team'), 'rev-parse', 'HEAD'], {
        encoding: 'utf8',
      }).trim(),
    ).toBe(first);
    expect(codes(errors)).toEqual(['git_clone_2001']);
    expect(errors[0]?.message).toContain('is not empty and is not a git repository');
    expect(readFileSync(join(dir, 'clones', 'other', 'notes.txt'), 'utf8')).toBe('mine');
    await store.close();
  });
});
