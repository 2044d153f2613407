#!/usr/bin/env node
/**
 * Runtime stores at scale: for N presets (10,000 by default), one manage's store traffic per preset —
 * acquire, renew, save, release — against PostgresDriver and ZookeeperDriver on real servers.
 * Reports the wall time of a whole cycle divided by N (what one preset costs the instance, with the
 * daemon's manage concurrency of 32) and the median latency of one preset's four calls.
 *
 * Run: npm run bench:runtime -- --pg postgres://postgres@127.0.0.1:5432/test --zk 127.0.0.1:2181
 * (builds dist/ first). A store whose option is not given is not measured. Options: --presets N --runs N
 */
import { cpus } from 'node:os';
import { parseArgs } from 'node:util';
import pino from 'pino';

const { values } = parseArgs({
  options: {
    pg: { type: 'string' },
    zk: { type: 'string' },
    presets: { type: 'string', default: '10000' },
    runs: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '32' },
  },
});
const N = Number(values.presets);
const RUNS = Number(values.runs);
const CONCURRENCY = Number(values.concurrency);
const logger = pino({ level: 'silent' });
const { PostgresRuntime } = await import('../dist/drivers/runtime/postgres/postgres-runtime.js');
const { postgresOptionsSchema } = await import('../dist/drivers/runtime/postgres/options.js');
const { ZookeeperRuntime } = await import('../dist/drivers/runtime/zookeeper/zookeeper-runtime.js');
const { zookeeperOptionsSchema } = await import('../dist/drivers/runtime/zookeeper/options.js');

const tag = `${process.pid}_${Date.now().toString(36)}`;
const state = (i) => ({
  version: 1,
  lastManagedAt: Date.now(),
  vms: [{ id: `vm-${i}`, state: 'running' }],
  events: [],
});
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function cycle(store) {
  const latencies = [];
  let next = 0;
  const worker = async () => {
    while (next < N) {
      const i = next++;
      const t = performance.now();
      const lease = await store.acquire(`preset/p${i}`, 60_000);
      if (!lease) throw new Error(`p${i}: lease busy`);
      const renewed = await store.renew(lease, 60_000);
      await store.save(`p${i}`, state(i), renewed ?? lease);
      await store.release(renewed ?? lease);
      latencies.push(performance.now() - t);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { wall: performance.now() - start, latency: median(latencies) };
}

async function measure(name, store) {
  await cycle(store); // first cycle creates rows and nodes; not counted
  const runs = [];
  for (let r = 0; r < RUNS; r++) runs.push(await cycle(store));
  const wall = median(runs.map((r) => r.wall));
  const result = {
    store: name,
    presets: N,
    cycle_ms: Math.round(wall),
    per_preset_ms: +(wall / N).toFixed(3),
    median_preset_latency_ms: +median(runs.map((r) => r.latency)).toFixed(2),
  };
  console.log(JSON.stringify(result));
  await store.close();
  return result;
}

console.log(
  `machine: ${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}, ${new Date().toISOString()}`,
);
console.log(`${N} presets, concurrency ${CONCURRENCY}, median of ${RUNS} cycles`);
if (values.pg) {
  const o = postgresOptionsSchema.parse({ url: values.pg, schema: `bench_${tag}`, pool_size: 16 });
  await measure('PostgresDriver', new PostgresRuntime(o, 'bench', logger));
  const pg = (await import('pg')).default;
  const c = new pg.Client({ connectionString: values.pg });
  await c.connect();
  await c.query(`DROP SCHEMA "bench_${tag}" CASCADE`);
  await c.end();
}
if (values.zk) {
  const o = zookeeperOptionsSchema.parse({ servers: values.zk, working_path: `/vmshepherd-bench/${tag}` });
  await measure('ZookeeperDriver', new ZookeeperRuntime(o, 'bench', logger));
}
if (!values.pg && !values.zk) console.log('give --pg URL and/or --zk host:port');
