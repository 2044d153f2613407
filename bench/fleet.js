// Fleet benchmark (issue 3): the steady cycle of 3 vmshepherd instances sharing 3000 presets through one
// runtime store, against 1 instance, on one shared simulated cloud (`vmshepherd simulator`, 100 ms per call).
// Each instance has its own cloud limiter (8 calls in flight); the cloud offers no account-wide listing
// (`account_listing: false`), so every manage lists its preset with one call: the cloud's latency dominates.
// `--account-listing=1` measures the default instead (one listing per account and cycle).
//
// Run: npm run bench:fleet [-- --store pg|zk --pg URL --zk host:port --presets N --window S]
// Throughput is manages per second over the fleet (the daemons' vmshepherd_manage_duration_seconds_count
// with result="managed"), read over `window` seconds after a warm-up; the steady cycle is presets divided
// by it: the time in which every preset is managed once.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  benchArgs,
  dropPgSchema,
  sleep,
  startDaemonProcess,
  startSimulator,
  stopDaemonProcess,
  writeInstanceSettings,
  writePresetFiles,
} from './scenario.js';

const args = benchArgs();
const PRESETS = Number(args.presets ?? 3000);
const COUNT = Number(args.count ?? 1);
const LATENCY = Number(args.latency ?? 0.1);
const CALLS = Number(args.calls ?? 8);
const WINDOW = Number(args.window ?? 30);
const WARMUP = Number(args.warmup ?? 10);
const ROUNDS = Number(args.rounds ?? 3);
const STORE = args.store ?? 'pg';
const LISTING = args['account-listing'] === '1';
const PG_URL = args.pg ?? 'postgres://postgres@127.0.0.1:5432/test';
const tag = `fleet_${process.pid}_${Date.now().toString(36)}`;

function runtimeBlock() {
  if (STORE === 'zk') {
    return `{driver: ZookeeperDriver, servers: '${args.zk ?? '127.0.0.1:2181'}', working_path: /${tag}}`;
  }
  return `{driver: PostgresDriver, url: '${PG_URL}', schema: ${tag}}`;
}

function writeFleet(dir, sim, port) {
  writePresetFiles(dir, PRESETS, COUNT, 0);
  return (id) =>
    writeInstanceSettings(dir, {
      id,
      port: port(id),
      runtime: runtimeBlock(),
      manage: 'manage: {concurrency: 64}',
      iaas: `    driver: DummyIaasDriver
    endpoint: ${sim.url}
    token: ${sim.token}
    account_listing: ${LISTING}
    limits: {max_concurrent_calls: ${CALLS}}`,
    });
}

/** Presets managed so far by one instance. */
async function managed(instance) {
  const text = await (await fetch(`http://127.0.0.1:${instance.port}/metrics`)).text();
  const m = /vmshepherd_manage_duration_seconds_count\{result="managed"\} (\d+)/.exec(text);
  return Number(m?.[1] ?? 0);
}

/** Waits until every instance has managed presets (a new process loads 3000 preset files first). */
async function working(instances) {
  const start = await Promise.all(instances.map(managed));
  for (;;) {
    const now = await Promise.all(instances.map(managed));
    if (now.every((n, i) => n > start[i])) return;
    await sleep(500);
  }
}

/** Manages per second over the fleet during `seconds`, and each instance's share. */
async function throughput(instances, seconds) {
  const before = await Promise.all(instances.map(managed));
  const t0 = performance.now();
  await sleep(seconds * 1000);
  const after = await Promise.all(instances.map(managed));
  const elapsed = (performance.now() - t0) / 1000;
  const each = after.map((a, i) => a - before[i]);
  const total = each.reduce((a, b) => a + b, 0);
  return { per_s: total / elapsed, share: each.map((n) => Number((n / total).toFixed(3))) };
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-fleet-'));
  const sim = await startSimulator(`{latency: ${LATENCY}, boot_time: 0}`);
  const base = 18_000 + Math.floor(Math.random() * 20_000);
  const port = (id) => base + Number(id.slice(1));
  const settingsFor = writeFleet(dir, sim, port);
  const ids = ['i1', 'i2', 'i3'];
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
    load_average: loadavg().map((n) => Number(n.toFixed(1))),
    scenario: {
      presets: PRESETS,
      count: COUNT,
      latency_s: LATENCY,
      calls_in_flight_per_instance: CALLS,
      store: STORE,
      account_listing: LISTING,
      window_s: WINDOW,
    },
    rounds: [],
  };
  let instances = [];
  try {
    // Converge with all three (creates dominate: 3000 × 0.1 s / 24 calls in flight).
    instances = await Promise.all(ids.map((id) => startDaemonProcess(settingsFor(id), port(id))));
    const t0 = performance.now();
    while ((await sim.size()) < PRESETS * COUNT) await sleep(1000);
    result.first_convergence_3_instances_s = Number(((performance.now() - t0) / 1000).toFixed(1));
    console.error(`converged in ${result.first_convergence_3_instances_s} s`);
    for (let r = 0; r < ROUNDS; r++) {
      // Three instances, then one (the other two stop cleanly: their leases are released at once).
      if (instances.length < 3) {
        instances.push(
          ...(await Promise.all(ids.slice(1).map((id) => startDaemonProcess(settingsFor(id), port(id))))),
        );
      }
      await working(instances);
      await sleep(WARMUP * 1000);
      const three = await throughput(instances, WINDOW);
      await Promise.all(instances.slice(1).map((i) => stopDaemonProcess(i.child)));
      instances = instances.slice(0, 1);
      await sleep(WARMUP * 1000);
      const one = await throughput(instances, WINDOW);
      const round = {
        three_per_s: Number(three.per_s.toFixed(1)),
        three_share: three.share,
        one_per_s: Number(one.per_s.toFixed(1)),
        ratio: Number((three.per_s / one.per_s).toFixed(2)),
      };
      console.error(JSON.stringify(round));
      result.rounds.push(round);
    }
    const med = (key) => {
      const s = result.rounds.map((x) => x[key]).sort((a, b) => a - b);
      return s[Math.floor((s.length - 1) / 2)];
    };
    result.steady_cycle_s = {
      three_instances: Number((PRESETS / med('three_per_s')).toFixed(2)),
      one_instance: Number((PRESETS / med('one_per_s')).toFixed(2)),
    };
    result.throughput_ratio = med('ratio');
    result.load_average_after = loadavg().map((n) => Number(n.toFixed(1)));
    result.max_vms_per_preset = Math.max(
      ...Object.values(
        (
          await (
            await fetch(`${sim.url}/v1/stats`, { headers: { authorization: `Bearer ${sim.token}` } })
          ).json()
        ).maxPerPreset,
      ),
    );
  } finally {
    await Promise.all(instances.map((i) => stopDaemonProcess(i.child)));
    sim.child.kill();
    rmSync(dir, { recursive: true, force: true });
    if (STORE === 'pg') await dropPgSchema(PG_URL, tag);
  }
  console.log(JSON.stringify(result, null, 2));
  const out = join(
    'bench',
    'results',
    `fleet-${STORE}${LISTING ? '-listing' : ''}-${result.date.slice(0, 10)}.json`,
  );
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
}

await main();
process.exit(0);
