// HTTP benchmark (issue 6): 1000 presets × 10 VMs managed on the simulated cloud (as bench/core.js), the
// API and panel served by the daemon's own process; autocannon (in a child process, 50 connections) loads
// one route at a time while the daemon keeps cycling. Reports latency median and p99 per route, and the
// steady cycle with and without the load. Run with `npm run bench:http` (builds first).
import { spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildServer } from '../dist/api/server.js';
import { benchArgs, benchDaemon, converge, median, sleep } from './scenario.js';

const args = benchArgs();
const PRESETS = Number(args.presets ?? 1000);
const COUNT = Number(args.count ?? 10);
const LATENCY = Number(args.latency ?? 0.1);
const CONNECTIONS = Number(args.connections ?? 50);
const DURATION = Number(args.duration ?? 12);
const STEADY = Number(args.steady ?? 7);
const mid = Math.floor(PRESETS / 2);
const ROUTES = [
  '/api/v1/presets',
  `/api/v1/presets/p${mid}`,
  `/api/v1/presets/p${mid}/vms`,
  '/',
  `/presets/p${mid}`,
];

const round = (n, d = 3) => Number(n.toFixed(d));

/** Steady cycles, one every 1.1 s (the shared listing must start after the last save), until `until()`. */
async function cycles(daemon, until) {
  const walls = [];
  while (!until()) {
    await sleep(1100);
    const t0 = performance.now();
    await daemon.runCycle();
    walls.push((performance.now() - t0) / 1000);
  }
  return walls;
}

/** autocannon in a child process, so the load generator does not share the daemon's event loop. */
function autocannon(url) {
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [bin, '-c', String(CONNECTIONS), '-d', String(DURATION), '-j', url],
      {
        stdio: ['ignore', 'pipe', 'ignore'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) =>
      code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`autocannon exit ${code}`)),
    );
  });
}

async function main() {
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
    scenario: {
      presets: PRESETS,
      count: COUNT,
      latency_s: LATENCY,
      connections: CONNECTIONS,
      duration_s: DURATION,
    },
  };
  const { daemon, dir } = await benchDaemon({
    presets: PRESETS,
    count: COUNT,
    latency: LATENCY,
    bootTime: 1,
    settings: 'http: {listen_port: 0}\n',
    preset: 'panel_links: {status: "http://ip:8080/"}\n',
  });
  result.converged_s = round((await converge(daemon, PRESETS * COUNT)).seconds, 1);
  const app = buildServer(daemon);
  await app.listen({ host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${app.server.address().port}`;

  let n = 0;
  const quiet = await cycles(daemon, () => n++ >= STEADY);
  result.steady_cycle_idle_s = { median: round(median(quiet)), all: quiet.map((w) => round(w)) };

  // The server alone (no cycle running), then with the daemon cycling as it does in production.
  result.routes_no_cycle = [];
  for (const route of ROUTES) {
    const r = await autocannon(`${base}${route}`);
    result.routes_no_cycle.push({
      route,
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      req_per_s: Math.round(r.requests.average),
    });
    console.error(`${route} (no cycle): p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
  }

  // How long the event loop stalls while cycling: what a request waits for, whatever its route.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  result.routes = [];
  const loaded = [];
  for (const route of ROUTES) {
    let done = false;
    loop.enable();
    const load = autocannon(`${base}${route}`).finally(() => {
      done = true;
    });
    const walls = await cycles(daemon, () => done);
    const r = await load;
    loaded.push(...walls);
    result.routes.push({
      route,
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      req_per_s: Math.round(r.requests.average),
      kb_per_response: Math.round(r.throughput.average / Math.max(1, r.requests.average) / 1024),
      non2xx: r.non2xx,
      errors: r.errors,
      cycles_during: walls.map((w) => round(w)),
    });
    console.error(
      `${route}: p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${Math.round(r.requests.average)} req/s`,
    );
  }
  loop.disable();
  result.event_loop_delay_cycling_ms = {
    p50: round(loop.percentile(50) / 1e6, 1),
    p99: round(loop.percentile(99) / 1e6, 1),
    max: round(loop.max / 1e6, 1),
  };
  result.steady_cycle_loaded_s = { median: round(median(loaded)), all: loaded.map((w) => round(w)) };
  result.cycle_slowdown_pct = round(
    ((result.steady_cycle_loaded_s.median - result.steady_cycle_idle_s.median) /
      result.steady_cycle_idle_s.median) *
      100,
    1,
  );
  await app.close();
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });

  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    `bench/results/http-${result.date.slice(0, 10)}.json`,
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log(JSON.stringify(result, null, 2));
  console.log(
    '\n| route | KB | p50 / p99, no cycle | req/s | p50 / p99, cycling | req/s |\n| --- | --- | --- | --- | --- | --- |',
  );
  result.routes.forEach((r, i) => {
    const q = result.routes_no_cycle[i];
    console.log(
      `| \`GET ${r.route}\` | ${r.kb_per_response} | ${q.p50_ms} / ${q.p99_ms} ms | ${q.req_per_s} | ${r.p50_ms} / ${r.p99_ms} ms | ${r.req_per_s} |`,
    );
  });
  const eld = result.event_loop_delay_cycling_ms;
  console.log(`\nevent loop delay while cycling: p50 ${eld.p50} ms, p99 ${eld.p99} ms, max ${eld.max} ms`);
  console.log(
    `\nsteady cycle: ${result.steady_cycle_idle_s.median} s idle, ${result.steady_cycle_loaded_s.median} s under load (${result.cycle_slowdown_pct}%)`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
