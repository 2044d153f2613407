#!/usr/bin/env node
/**
 * GitRepoDriver at scale: 20 repositories × 50 presets (1000 presets, one VM each on the simulated cloud).
 *
 * Measures, on this machine:
 *   1. the first fetch of all 20 repositories (clone),
 *   2. a refresh of all 20 unchanged repositories (file:// and git:// through git daemon on 127.0.0.1),
 *   3. steady manage cycles of the daemon over those presets: how many git processes they start (must be
 *      0: refresh runs on its own interval) and how long they take next to the same presets read by
 *      DirectoryDriver.
 *
 * Run: npm run bench:git  (builds dist/ first). Options: --repos N --presets N --runs N
 */
import childProcess, { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';

// Count every git process started from here on (simple-git spawns through child_process).
let gitSpawns = 0;
const realSpawn = childProcess.spawn;
childProcess.spawn = function spawn(command, ...rest) {
  if (command === 'git') gitSpawns++;
  return realSpawn.call(this, command, ...rest);
};
syncBuiltinESMExports();

const { Daemon } = await import('../dist/daemon/daemon.js');
const { gitRepoDriver } = await import('../dist/drivers/presets/git-repo/driver.js');
const { driverContext } = await import('../dist/daemon/driver-context.js');
const { createLogger } = await import('../dist/observability/logger.js');
const { systemClock } = await import('../dist/util/clock.js');

const { values: args } = parseArgs({
  options: {
    repos: { type: 'string', default: '20' },
    presets: { type: 'string', default: '50' },
    runs: { type: 'string', default: '7' },
  },
});
const REPOS = Number(args.repos);
const PRESETS = Number(args.presets);
const RUNS = Number(args.runs);

const root = mkdtempSync(join(tmpdir(), 'vmshepherd-bench-git-'));
const quiet = () =>
  createLogger({
    level: 'error',
    instance: 'bench',
    pretty: false,
    destination: new Writable({ write: (_c, _e, d) => d() }),
  });
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const ms = (x) => `${x.toFixed(0)} ms`;
const presetText = (repo, i) =>
  `name: p${i}\ncount: 1\nimage: img\nflavor: small\nmanage_interval: 0\nmeta_tags: {team: ${repo}}\nuserdata: file://userdata/boot.yaml\n`;

function git(cwd, ...a) {
  return execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@invalid', ...a], {
    cwd,
    encoding: 'utf8',
  });
}

/** 20 bare repositories of 50 presets each, plus the same presets as one directory. */
function makeRepositories() {
  const keys = [];
  const flat = join(root, 'flat');
  mkdirSync(join(flat, 'userdata'), { recursive: true });
  writeFileSync(join(flat, 'userdata', 'boot.yaml'), '#cloud-config\nhostname: {{ name }}\n');
  for (let r = 0; r < REPOS; r++) {
    const key = `team${r}`;
    const work = join(root, 'work', key);
    mkdirSync(join(work, 'userdata'), { recursive: true });
    writeFileSync(join(work, 'userdata', 'boot.yaml'), '#cloud-config\nhostname: {{ name }}\n');
    for (let i = 0; i < PRESETS; i++) {
      writeFileSync(join(work, `p${i}.conf`), presetText(key, i));
      writeFileSync(
        join(flat, `${key}-p${i}.conf`),
        presetText(key, i).replace(`name: p${i}`, `name: ${key}.p${i}`),
      );
    }
    execFileSync('git', [
      'init',
      '--quiet',
      '--bare',
      '--initial-branch=main',
      join(root, 'remotes', `${key}.git`),
    ]);
    git(work, 'init', '--quiet', '--initial-branch=main');
    git(work, 'add', '--all');
    git(work, 'commit', '--quiet', '-m', 'presets');
    git(work, 'push', '--quiet', join(root, 'remotes', `${key}.git`), 'main');
    keys.push(key);
  }
  return keys;
}

/** git daemon on 127.0.0.1, an ephemeral port, one `git daemon --inetd` per connection. */
function gitDaemon(base) {
  const server = createServer((socket) => {
    const child = realSpawn('git', ['daemon', '--inetd', '--export-all', `--base-path=${base}`, base], {
      stdio: ['pipe', 'pipe', 'ignore'],
    });
    socket.pipe(child.stdin);
    child.stdout.pipe(socket);
    socket.on('error', () => child.kill());
    child.on('exit', () => socket.end());
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `git://127.0.0.1:${server.address().port}`, server })),
  );
}

async function storeFor(repositories, cloneDir) {
  const parsed = gitRepoDriver.parseOptions({ repositories, clone_dir: cloneDir, refresh_interval: 3600 });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return gitRepoDriver.create(
    parsed.value,
    driverContext(quiet(), systemClock, 'bench', root, 'GitRepoDriver'),
  );
}

async function refreshTimes(label, repositories) {
  const store = await storeFor(repositories, join(root, `clones-${label}`));
  let t = performance.now();
  const { sources, errors } = await store.load();
  const clone = performance.now() - t;
  if (errors.length > 0 || sources.length !== REPOS * PRESETS)
    throw new Error(`${label}: ${sources.length} sources, ${errors.map((e) => e.message).join('; ')}`);
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    t = performance.now();
    await store.refreshAll();
    times.push(performance.now() - t);
  }
  const spawnsBefore = gitSpawns;
  await store.refreshAll();
  const perRefresh = gitSpawns - spawnsBefore;
  await store.close();
  return { label, clone, median: median(times), max: Math.max(...times), perRefresh };
}

async function daemonOver(presetsBlock, seed) {
  const dir = mkdtempSync(join(root, 'daemon-'));
  writeFileSync(
    join(dir, 'settings.yaml'),
    `worker_interval: 3600
log_level: error
runtime: {driver: InMemoryDriver}
presets:
${presetsBlock.replace(/^/gm, '  ')}
manage: {refresh_interval: 3600, concurrency: 64}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0, seed: ${seed}}
`,
  );
  const daemon = await Daemon.create({
    configFile: join(dir, 'settings.yaml'),
    logDestination: new Writable({ write: (_c, _e, d) => d() }),
    pretty: false,
  });
  await daemon.runOnce(); // first cycle: loads (clones) and creates every VM
  await daemon.runOnce();
  return daemon;
}

/** Steady cycles of two daemons, interleaved so that warm-up and GC weigh on both alike. */
async function steadyCycles(daemons) {
  const times = daemons.map(() => []);
  const spawns = daemons.map(() => 0);
  for (let i = 0; i < RUNS; i++) {
    for (const [d, daemon] of daemons.entries()) {
      const before = gitSpawns;
      const t = performance.now();
      const summary = await daemon.runOnce(); // a catalog refresh (store.load) and a full manage cycle
      times[d].push(performance.now() - t);
      spawns[d] += gitSpawns - before;
      if (summary.managed !== REPOS * PRESETS) throw new Error(`managed ${summary.managed}`);
    }
  }
  const results = daemons.map((daemon, d) => ({
    median: median(times[d]),
    spawns: spawns[d],
    presets: daemon.presets().length,
  }));
  for (const daemon of daemons) await daemon.stop();
  return results;
}

try {
  const t0 = performance.now();
  const keys = makeRepositories();
  const setup = performance.now() - t0;
  const { url, server } = await gitDaemon(join(root, 'remotes'));
  const file = await refreshTimes(
    'file',
    Object.fromEntries(keys.map((k) => [k, `file://${join(root, 'remotes', `${k}.git`)}`])),
  );
  const daemonTransport = await refreshTimes(
    'git-daemon',
    Object.fromEntries(keys.map((k) => [k, `${url}/${k}.git`])),
  );
  server.close();
  const repositories = keys.map((k) => `    ${k}: file://${join(root, 'remotes', `${k}.git`)}`).join('\n');
  const [gitCycle, dirCycle] = await steadyCycles([
    await daemonOver(
      `driver: GitRepoDriver\nclone_dir: ${join(root, 'clones-daemon')}\nrepositories:\n${repositories}`,
      3,
    ),
    await daemonOver(`driver: DirectoryDriver\npath: ${join(root, 'flat')}`, 4),
  ]);

  const lines = [
    `GitRepoDriver: ${REPOS} repositories × ${PRESETS} presets (${REPOS * PRESETS} presets, 1 VM each), ${RUNS} runs, medians`,
    `machine: ${cpus().length} × ${cpus()[0]?.model.trim()}, node ${process.version}, ${execFileSync('git', ['--version'], { encoding: 'utf8' }).trim()}, ${new Date().toISOString().slice(0, 10)}`,
    `(setup of the repositories: ${ms(setup)})`,
    '',
    '| transport | first fetch of all (clone) | refresh of all, unchanged (median / max) | git processes per refresh |',
    '| --- | --- | --- | --- |',
    ...[file, daemonTransport].map(
      (r) => `| ${r.label} | ${ms(r.clone)} | ${ms(r.median)} / ${ms(r.max)} | ${r.perRefresh} |`,
    ),
    '',
    '| steady cycle (refresh of the catalog + manage of every preset) | median | git processes started |',
    '| --- | --- | --- |',
    `| GitRepoDriver, ${gitCycle.presets} presets | ${ms(gitCycle.median)} | ${gitCycle.spawns} in ${RUNS} cycles |`,
    `| DirectoryDriver, the same ${dirCycle.presets} presets | ${ms(dirCycle.median)} | ${dirCycle.spawns} |`,
    `| ratio git / directory | ${(gitCycle.median / dirCycle.median).toFixed(2)} | |`,
  ];
  console.log(lines.join('\n'));
  const failed = [];
  if (gitCycle.spawns !== 0) failed.push('a steady cycle started git');
  for (const r of [file, daemonTransport])
    if (r.median >= 2000) failed.push(`${r.label}: refresh of all took ${ms(r.median)}`);
  if (failed.length > 0) {
    console.error(`FAILED: ${failed.join('; ')}`);
    process.exitCode = 1;
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
