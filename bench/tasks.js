// Tasks benchmark (issue 23): tasks end to end on PostgreSQL with 3 vmshepherd instances sharing the
// runtime store and one simulated cloud (`vmshepherd simulator`). Each run submits a burst of `restart`
// tasks through the REST API with a token, spread over the three instances, then a trickle of one task per
// preset; whoever holds a preset's lease runs its tasks. Measured from the task records: throughput (tasks
// ended per second, from the first submission to the last end) and submit→start (createdAt → startedAt)
// p50/p99; checked: every task `done`, taken up once, and exactly one reboot per task at the simulator
// (`/v1/stats`).
//
// Run: npm run bench:tasks [-- --pg URL --presets N --count N --tasks N --runs N --latency S
//      --worker-interval S --in-flight N --trickle N --trickle-gap MS]
// Results go to bench/results/tasks-pg-DATE.json. The tables live in a schema of their own, dropped at the end.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchArgs,
  dropPgSchema,
  median,
  sleep,
  startDaemonProcess,
  startSimulator,
  stopDaemonProcess,
  writeInstanceSettings,
  writePresetFiles,
} from './scenario.js';

const args = benchArgs();
const PRESETS = Number(args.presets ?? 60);
const COUNT = Number(args.count ?? 2);
const TASKS = Number(args.tasks ?? 240);
const RUNS = Number(args.runs ?? 5);
const LATENCY = Number(args.latency ?? 0.02);
const WORKER_INTERVAL = Number(args['worker-interval'] ?? 1);
const IN_FLIGHT = Number(args['in-flight'] ?? 16);
const TRICKLE = Number(args.trickle ?? 30);
const TRICKLE_GAP_MS = Number(args['trickle-gap'] ?? 200);
const PG_URL = args.pg ?? 'postgres://postgres@127.0.0.1:5432/test';
const TOKEN = 'bench-operate-token-0123456789';
const tag = `tasks_${process.pid}_${Date.now().toString(36)}`;
const IDS = ['i1', 'i2', 'i3'];

function writeFleet(dir, sim, port) {
  // Managed once to create the VMs; after that only the tasks make an instance take the lease.
  writePresetFiles(dir, PRESETS, COUNT, 3600);
  return (id) =>
    writeInstanceSettings(dir, {
      id,
      port: port(id),
      workerInterval: WORKER_INTERVAL,
      http: `  tokens: [{name: bench, role: operate, token: ${TOKEN}}]`,
      runtime: `{driver: PostgresDriver, url: '${PG_URL}', schema: ${tag}}`,
      iaas: `    {driver: DummyIaasDriver, endpoint: ${sim.url}, token: ${sim.token}}`,
    });
}

async function api(url, method, path) {
  const res = await fetch(`${url}/api/v1${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: await res.json() };
}

async function simGet(sim, path) {
  return (await fetch(`${sim.url}${path}`, { headers: { authorization: `Bearer ${sim.token}` } })).json();
}

const vmsIn = (body) => (Array.isArray(body) ? body : (body.vms ?? body.items ?? [])).length;

/** The VMs of every preset, once all run and every preset's state was saved (a request is checked against it). */
async function converged(sim, url) {
  for (;;) {
    const vms = (await simGet(sim, '/v1/peek')).vms.filter((v) => v.state === 'running');
    if (vms.length >= PRESETS * COUNT) {
      const known = await Promise.all(
        Array.from({ length: PRESETS }, (_, i) => api(url, 'GET', `/presets/p${i}/vms`)),
      );
      const saved = known.filter((r) => r.status === 200 && vmsIn(r.body) >= COUNT);
      if (saved.length === PRESETS) return vms;
    }
    await sleep(1000);
  }
}

/** Submits `restart` to each VM of `picks` (one instance after another), `inFlight` at once, `gapMs` apart. */
async function submit(instances, picks, inFlight, gapMs = 0) {
  const ids = [];
  let next = 0;
  const worker = async () => {
    while (next < picks.length) {
      const i = next++;
      const vm = picks[i];
      const path = `/presets/${vm.metadata.vmshepherd_preset}/vms/${vm.id}/restart`;
      const { status, body } = await api(instances[i % instances.length].url, 'POST', path);
      if (status !== 202) throw new Error(`submit ${i}: HTTP ${status} ${JSON.stringify(body)}`);
      ids.push(body.id);
      if (gapMs) await sleep(gapMs);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  return ids;
}

async function allEnded(url, ids) {
  for (;;) {
    const active = (await api(url, 'GET', '/tasks?active=true')).body;
    if (active.length === 0) break;
    await sleep(250);
  }
  const wanted = new Set(ids);
  return (await api(url, 'GET', '/tasks')).body.filter((t) => wanted.has(t.id));
}

const percentile = (xs, p) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

/** Submits the tasks, waits until they all ended, and reads their records and the simulator's reboots. */
async function measure(instances, sim, picks, inFlight, gapMs) {
  const reboots0 = (await simGet(sim, '/v1/stats')).calls?.reboot ?? 0;
  const ids = await submit(instances, picks, inFlight, gapMs);
  const tasks = await allEnded(instances[0].url, ids);
  const reboots = ((await simGet(sim, '/v1/stats')).calls?.reboot ?? 0) - reboots0;
  const ms = (iso) => Date.parse(iso);
  const waits = tasks.map((t) => ms(t.startedAt) - ms(t.createdAt));
  const first = Math.min(...tasks.map((t) => ms(t.createdAt)));
  const last = Math.max(...tasks.map((t) => ms(t.finishedAt)));
  const byExecutor = {};
  for (const t of tasks) byExecutor[t.executor] = (byExecutor[t.executor] ?? 0) + 1;
  return {
    tasks: tasks.length,
    done: tasks.filter((t) => t.state === 'done').length,
    taken_up_once: tasks.filter((t) => t.attempts === 1).length,
    reboots,
    exactly_once:
      tasks.length === picks.length && reboots === picks.length && tasks.every((t) => t.state === 'done'),
    throughput_per_s: Number((tasks.length / ((last - first) / 1000)).toFixed(1)),
    submit_to_start_ms: { p50: percentile(waits, 50), p99: percentile(waits, 99), max: Math.max(...waits) },
    by_executor: byExecutor,
  };
}

/**
 * A burst of TASKS restarts, VMs round-robin (so each preset has a queue to work through), and a trickle
 * of one task per preset, TRICKLE_GAP_MS apart: its submit→start is the pick-up delay without a queue.
 */
async function oneRun(instances, vms, sim) {
  const burst = await measure(
    instances,
    sim,
    Array.from({ length: TASKS }, (_, i) => vms[i % vms.length]),
    IN_FLIGHT,
  );
  const onePerPreset = [...new Map(vms.map((v) => [v.metadata.vmshepherd_preset, v])).values()];
  const trickle = await measure(instances, sim, onePerPreset.slice(0, TRICKLE), 1, TRICKLE_GAP_MS);
  return { burst, trickle };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-tasks-'));
  const sim = await startSimulator(`{latency: ${LATENCY}, boot_time: 0}`);
  const base = 18_000 + Math.floor(Math.random() * 20_000);
  const port = (id) => base + Number(id.slice(1));
  const settingsFor = writeFleet(dir, sim, port);
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
    load_average: loadavg().map((n) => Number(n.toFixed(1))),
    scenario: {
      store: 'PostgresDriver',
      instances: 3,
      presets: PRESETS,
      count: COUNT,
      tasks_per_run: TASKS,
      verb: 'restart',
      latency_s: LATENCY,
      worker_interval_s: WORKER_INTERVAL,
      submissions_in_flight: IN_FLIGHT,
      trickle_tasks: TRICKLE,
      trickle_gap_ms: TRICKLE_GAP_MS,
    },
    runs: [],
  };
  let instances = [];
  try {
    instances = await Promise.all(IDS.map((id) => startDaemonProcess(settingsFor(id), port(id))));
    const vms = await converged(sim, instances[0].url);
    for (let r = 0; r < RUNS; r++) {
      const run = await oneRun(instances, vms, sim);
      console.error(JSON.stringify(run));
      result.runs.push(run);
      await sleep(2000);
    }
    const med = (f) => median(result.runs.map(f));
    result.median = {
      burst_throughput_per_s: med((r) => r.burst.throughput_per_s),
      burst_submit_to_start_p50_ms: med((r) => r.burst.submit_to_start_ms.p50),
      burst_submit_to_start_p99_ms: med((r) => r.burst.submit_to_start_ms.p99),
      trickle_submit_to_start_p50_ms: med((r) => r.trickle.submit_to_start_ms.p50),
      trickle_submit_to_start_p99_ms: med((r) => r.trickle.submit_to_start_ms.p99),
    };
    result.exactly_once = result.runs.every((r) => r.burst.exactly_once && r.trickle.exactly_once);
    result.load_average_after = loadavg().map((n) => Number(n.toFixed(1)));
  } finally {
    await Promise.all(instances.map((i) => stopDaemonProcess(i.child)));
    sim.child.kill();
    rmSync(dir, { recursive: true, force: true });
    await dropPgSchema(PG_URL, tag);
  }
  console.log(JSON.stringify(result, null, 2));
  const m = result.median;
  console.log(
    [
      '| burst tasks/s | burst submit→start p50 / p99 | trickle submit→start p50 / p99 | exactly once |',
      '| --- | --- | --- | --- |',
      `| ${m.burst_throughput_per_s} | ${m.burst_submit_to_start_p50_ms} / ${m.burst_submit_to_start_p99_ms} ms | ${m.trickle_submit_to_start_p50_ms} / ${m.trickle_submit_to_start_p99_ms} ms | ${result.exactly_once} |`,
    ].join('\n'),
  );
  const out = join('bench', 'results', `tasks-pg-${result.date.slice(0, 10)}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
}

await main();
process.exit(0);
