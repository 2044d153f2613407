// The scenario the core and HTTP benchmarks share: N presets of `count` VMs on the simulated cloud (in
// this process, or a `vmshepherd simulator` of its own), DirectoryDriver, InMemoryDriver, DummyHealthcheck.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse as parseYaml } from 'yaml';
import { applyDaemonV8Flags } from '../dist/cli/heap-flags.js';
import { Daemon } from '../dist/daemon/daemon.js';
import { simulatedClouds } from '../dist/drivers/iaas/dummy/driver.js';

/** `--key=value` and `--key value` (a flag alone is `'1'`); anything else is refused, not ignored. */
export const benchArgs = (argv = process.argv.slice(2)) => {
  const args = {};
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) throw new Error(`unexpected argument ${argv[i]}: options are --key=value or --key value`);
    const next = argv[i + 1];
    if (m[2] !== undefined) args[m[1]] = m[2];
    else if (next !== undefined && !next.startsWith('--')) args[m[1]] = argv[++i];
    else args[m[1]] = '1';
  }
  return args;
};

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * A daemon over `presets` preset files (100 ms calls, 32 in flight, 64 manages at once by default).
 * `remote`: a simulator from startSimulator(); `settings`/`preset`: extra YAML lines for each;
 * `heapGrowth`: `manage.heap_growth`.
 */
export async function benchDaemon({
  presets,
  count,
  latency,
  bootTime,
  remote,
  settings = '',
  preset = '',
  heapGrowth,
}) {
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-bench-'));
  mkdirSync(join(dir, 'presets'));
  writeFileSync(
    join(dir, 'settings.yaml'),
    `log_level: warn
worker_interval: 5
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
manage: {concurrency: 64${heapGrowth ? `, heap_growth: ${heapGrowth}` : ''}}
${settings}defaults:
  iaas:
    driver: DummyIaasDriver
    latency: ${latency}
    boot_time: ${bootTime}${remote ? `\n    endpoint: ${remote.url}\n    token: ${remote.token}` : ''}
    addresses: private
    limits: {max_concurrent_calls: 32}
  healthcheck:
    driver: DummyHealthcheck
`,
  );
  for (let i = 0; i < presets; i++) {
    writeFileSync(
      join(dir, 'presets', `p${i}.conf`),
      `name: p${i}\ncount: ${count}\nimage: img\nflavor: small\nmanage_interval: 0\nmeta_tags: {team: bench, index: '${i}'}\n${preset}`,
    );
  }
  const daemon = await Daemon.create({
    configFile: join(dir, 'settings.yaml'),
    logDestination: new Writable({ write: (_c, _e, done) => done() }),
    pretty: false,
  });
  // The V8 flags `vmshepherd run` sets once its config is read, so the daemon is measured as it runs.
  applyDaemonV8Flags(daemon.config.manage.heap_growth);
  await daemon.refreshPresets();
  return { daemon, dir };
}

/**
 * `vmshepherd simulator` in a process of its own (its `options` as YAML), shared by daemons or measured apart.
 * Its VMs get an address each (`addresses: private`), as every benchmark figure was measured with; the
 * simulated cloud's default is the original's 127.0.0.1 for all, which costs less.
 */
export async function startSimulator(options = '{}') {
  const token = 'bench-simulator-token';
  const child = spawn(
    process.execPath,
    [
      new URL('../bin/vmshepherd.js', import.meta.url).pathname,
      'simulator',
      '--port',
      '0',
      '--token',
      token,
      '--options',
      JSON.stringify({ addresses: 'private', ...parseYaml(options) }),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const url = await new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    child.once('exit', (c) => reject(new Error(`simulator exited with ${c}`)));
  });
  const size = async () =>
    (await (await fetch(`${url}/v1/stats`, { headers: { authorization: `Bearer ${token}` } })).json()).size;
  return { url, token, size, child };
}

/** Running VMs in the in-process simulated clouds. */
export function runningVms() {
  let n = 0;
  for (const cloud of simulatedClouds()) for (const vm of cloud.peek()) if (vm.state === 'running') n++;
  return n;
}

/** Manage cycles until `count()` reaches `total`. */
export async function converge(daemon, total, count = async () => runningVms()) {
  const started = performance.now();
  let cycles = 0;
  while ((await count()) < total) {
    await daemon.runOnce();
    cycles++;
    if ((await count()) < total) await sleep(50);
  }
  return { seconds: (performance.now() - started) / 1000, cycles };
}

const BIN = new URL('../bin/vmshepherd.js', import.meta.url).pathname;

/** Starts one daemon process; resolves once its HTTP server answers. */
export async function startDaemonProcess(settingsFile, port) {
  const child = spawn(BIN, ['-c', settingsFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err = (err + d).slice(-4000);
  });
  const started = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`instance exited (${child.exitCode}): ${err}`);
    if (Date.now() - started > 120_000) throw new Error(`instance did not start: ${err}`);
    const ok = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, port, url: `http://127.0.0.1:${port}` };
    await sleep(250);
  }
}

/** A run's tables live in a schema of their own on a shared server: leave nothing behind. */
export async function dropPgSchema(url, schema) {
  const { default: pg } = await import('pg');
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}

/** Stops a daemon process started by startDaemonProcess; resolves once it has exited. */
export const stopDaemonProcess = (child) =>
  child.exitCode !== null
    ? Promise.resolve()
    : new Promise((resolve) => {
        child.once('exit', resolve);
        child.kill('SIGTERM');
      });

/** Writes `presets` preset files p0, p1, … of `count` VMs each under dir/presets. */
export function writePresetFiles(dir, presets, count, manageInterval) {
  mkdirSync(join(dir, 'presets'));
  for (let i = 0; i < presets; i++) {
    writeFileSync(
      join(dir, 'presets', `p${i}.conf`),
      `name: p${i}\ncount: ${count}\nimage: img\nflavor: small\nmanage_interval: ${manageInterval}\n`,
    );
  }
}

/**
 * Writes the settings of one instance of a multi-instance benchmark (presets from dir/presets, one
 * simulated cloud) and returns the file's path. `http`, `manage` and `iaas` are extra YAML lines, indented.
 */
export function writeInstanceSettings(
  dir,
  { id, port, workerInterval = 1, runtime, http = '', manage = '', iaas },
) {
  const file = join(dir, `settings-${id}.yaml`);
  writeFileSync(
    file,
    `instance_id: ${id}
log_level: warn
worker_interval: ${workerInterval}
http:
  listen_port: ${port}
${http}
runtime: ${runtime}
presets: {driver: DirectoryDriver, path: presets}
${manage}
defaults:
  iaas:
${iaas}
  healthcheck: {driver: DummyHealthcheck}
`,
  );
  return file;
}
