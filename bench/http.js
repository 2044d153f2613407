// HTTP benchmark (issue 6): 1000 presets × 10 VMs managed on the simulated cloud (as bench/core.js), the
// API and panel served by the daemon's own process; autocannon (in a child process, 50 connections) loads
// one route at a time (with the headers real clients send) while the daemon keeps cycling. Reports latency
// median and p99 per route, and the steady cycle with and without the load, also as interleaved pairs.
// Run with `npm run bench:http` (builds first).
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildServer } from '../dist/http/server.js';
import { benchArgs, benchDaemon, converge, median, sleep } from './scenario.js';

const args = benchArgs();
const PRESETS = Number(args.presets ?? 1000);
const COUNT = Number(args.count ?? 10);
const LATENCY = Number(args.latency ?? 0.1);
const CONNECTIONS = Number(args.connections ?? 50);
const DURATION = Number(args.duration ?? 12);
const STEADY = Number(args.steady ?? 7);
const mid = Math.floor(PRESETS / 2);
const PAIRS = Number(args.pairs ?? 9);
const PACED_RATE = Number(args.rate ?? 10);
/**
 * `--pin=1`: the daemon on core 0, the load generator (and the control's stand-in server) on core 1, so
 * the cycle pairs measure what serving costs the daemon, not the load generator's share of its core.
 * `--only=pairs` skips the per-route latency runs.
 */
const PIN = args.pin === '1';
const ONLY_PAIRS = args.only === 'pairs';
/** A child process, on core 1 when pinned. */
const spawnNode = (argv, options) =>
  PIN
    ? spawn('taskset', ['-c', '1', process.execPath, ...argv], options)
    : spawn(process.execPath, argv, options);
/** What a browser sends with every page (autocannon does not decompress: it counts the bytes sent). */
const BROWSER = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'accept-encoding': 'gzip, deflate, br',
};
/** What Node's fetch (the CLI), curl --compressed and most HTTP libraries send. */
const CLIENT_GZIP = { 'accept-encoding': 'gzip, deflate' };
/**
 * Each route as real clients load it: the API list's first page at the default size (100), compressed
 * and not; the whole list in one page (`limit=1000`) for comparison; the panel with a browser's headers.
 */
const ROUTES = [
  { route: '/api/v1/presets', headers: {} },
  { route: '/api/v1/presets', headers: CLIENT_GZIP },
  { route: '/api/v1/presets?limit=1000', headers: {} },
  { route: '/api/v1/presets?limit=1000', headers: CLIENT_GZIP },
  { route: `/api/v1/presets/p${mid}`, headers: CLIENT_GZIP },
  { route: `/api/v1/presets/p${mid}/vms`, headers: CLIENT_GZIP },
  { route: '/', headers: BROWSER },
  { route: `/presets/p${mid}`, headers: BROWSER },
];
const labelOf = ({ route, headers }) =>
  `${route}${headers['accept-encoding'] ? ` (${headers === BROWSER ? 'browser' : 'gzip'})` : ''}`;

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
function autocannon(url, headers = {}, duration = DURATION, extra = []) {
  const bin = createRequire(import.meta.url).resolve('autocannon/autocannon.js');
  const h = Object.entries(headers).flatMap(([k, v]) => ['-H', `${k}=${v}`]);
  return new Promise((resolve, reject) => {
    const child = spawnNode(
      [bin, '-c', String(CONNECTIONS), '-d', String(duration), ...h, ...extra, '-j', url],
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

/** A server in a child process answering `bytes` bytes to any request; resolves with its address. */
function startStandIn(bytes) {
  const code = `const b = Buffer.alloc(${bytes}, 97); const s = require('node:http').createServer((q, r) => { r.setHeader('content-type', 'application/json'); r.end(b); }); s.listen(0, '127.0.0.1', () => console.log(s.address().port));`;
  const child = spawnNode(['-e', code], { stdio: ['ignore', 'pipe', 'ignore'] });
  return new Promise((resolve) =>
    child.stdout.once('data', (d) => resolve({ child, base: `http://127.0.0.1:${String(d).trim()}` })),
  );
}

/** The load of the cycle comparison: what the panel and API clients poll most, the default list page. */
const PAIR_LOAD = ROUTES[0];

/**
 * Cycle with and without HTTP load, interleaved: `PAIRS` pairs, each one idle cycle and one cycle under
 * load, in alternating order so that the machine's drift (other people's jobs on the 2 shared cores)
 * falls on both sides alike. The load starts 1 s before its cycle (autocannon warm) and lasts past it.
 */
async function cyclePairs(daemon, base, rate, label = labelOf(PAIR_LOAD)) {
  const extra = rate ? ['-r', String(rate)] : [];
  const one = async (loaded) => {
    let load;
    let loadEnded = false;
    if (loaded) {
      load = autocannon(`${base}${PAIR_LOAD.route}`, PAIR_LOAD.headers, 6, extra).finally(() => {
        loadEnded = true;
      });
      await sleep(1000);
    } else await sleep(1100);
    const t0 = performance.now();
    await daemon.runCycle();
    const wall = (performance.now() - t0) / 1000;
    if (loaded && loadEnded) console.error('warning: the load ended before its cycle did');
    const r = load ? await load : undefined;
    return { wall, req_per_s: r ? Math.round(r.requests.average) : 0, whole: !loadEnded };
  };
  const idle = [];
  const loaded = [];
  const ratios = [];
  const rates = [];
  for (let i = 0; i < PAIRS; i++) {
    const order = i % 2 === 0 ? [false, true] : [true, false];
    const got = {};
    for (const l of order) got[l] = await one(l);
    idle.push(got.false.wall);
    loaded.push(got.true.wall);
    rates.push(got.true.req_per_s);
    ratios.push(got.true.wall / got.false.wall);
    console.error(
      `pair ${i + 1}${rate ? ` (${rate} req/s per client)` : ''}: idle ${round(got.false.wall)} s, loaded ${round(got.true.wall)} s, ${got.true.req_per_s} req/s`,
    );
  }
  const im = median(idle);
  const lm = median(loaded);
  return {
    pairs: PAIRS,
    load: label,
    per_client_rate: rate ?? 'as fast as answered',
    idle_s: idle.map((w) => round(w)),
    loaded_s: loaded.map((w) => round(w)),
    load_req_per_s: rates,
    idle_median_s: round(im),
    loaded_median_s: round(lm),
    slowdown_pct: round(((lm - im) / im) * 100, 1),
    ratio_median: round(median(ratios)),
    ratio_min: round(Math.min(...ratios)),
    ratio_max: round(Math.max(...ratios)),
  };
}

/** Each route loaded by autocannon, without a cycle running and then while cycling. */
async function routeRuns(daemon, base, result) {
  // What each route weighs before compression (the panel's list: 250 rows of HTML).
  result.identity_kb = {};
  for (const { route } of ROUTES) {
    const res = await fetch(`${base}${route}`, { headers: { 'accept-encoding': 'identity' } });
    result.identity_kb[route] = round((await res.arrayBuffer()).byteLength / 1024, 1);
  }

  // The server alone (no cycle running), then with the daemon cycling as it does in production.
  result.routes_no_cycle = [];
  for (const target of ROUTES) {
    const r = await autocannon(`${base}${target.route}`, target.headers);
    result.routes_no_cycle.push({
      route: labelOf(target),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      req_per_s: Math.round(r.requests.average),
      kb_per_response: round(r.throughput.average / Math.max(1, r.requests.average) / 1024, 1),
      non2xx: r.non2xx,
      errors: r.errors,
    });
    console.error(`${labelOf(target)} (no cycle): p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms`);
  }

  // How long the event loop stalls while cycling: what a request waits for, whatever its route.
  const loop = monitorEventLoopDelay({ resolution: 10 });
  result.routes = [];
  const loaded = [];
  for (const target of ROUTES) {
    let done = false;
    loop.enable();
    const load = autocannon(`${base}${target.route}`, target.headers).finally(() => {
      done = true;
    });
    const walls = await cycles(daemon, () => done);
    const r = await load;
    loaded.push(...walls);
    result.routes.push({
      route: labelOf(target),
      p50_ms: r.latency.p50,
      p99_ms: r.latency.p99,
      req_per_s: Math.round(r.requests.average),
      kb_per_response: round(r.throughput.average / Math.max(1, r.requests.average) / 1024, 1),
      non2xx: r.non2xx,
      errors: r.errors,
      cycles_during: walls.map((w) => round(w)),
    });
    console.error(
      `${labelOf(target)}: p50 ${r.latency.p50} ms, p99 ${r.latency.p99} ms, ${Math.round(r.requests.average)} req/s`,
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
}

async function main() {
  // Every thread of this process (V8's and libuv's too) on core 0.
  if (PIN) execFileSync('taskset', ['-a', '-cp', '0', String(process.pid)], { stdio: 'ignore' });
  const result = {
    pinned: PIN,
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
    scenario: {
      presets: PRESETS,
      count: COUNT,
      latency_s: LATENCY,
      connections: CONNECTIONS,
      duration_s: DURATION,
    },
    load_average_start: loadavg().map((l) => round(l, 2)),
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

  if (!ONLY_PAIRS) await routeRuns(daemon, base, result);
  // As fast as 50 clients get answers (the saturating load of the routes above), then 50 clients at
  // 10 requests per second each (every one a tight poller: far above a panel's or a script's rate).
  result.cycle_pairs = await cyclePairs(daemon, base);
  result.cycle_pairs_paced = await cyclePairs(daemon, base, PACED_RATE);
  // Control: the same paced load against a stand-in server in another process (same bytes), so the
  // daemon serves nothing: what remains is the load generator's share of the 2 shared cores.
  const standIn = await startStandIn(
    (await (await fetch(`${base}${PAIR_LOAD.route}`)).arrayBuffer()).byteLength,
  );
  result.cycle_pairs_paced_control = await cyclePairs(
    daemon,
    standIn.base,
    PACED_RATE,
    'control: stand-in server in another process',
  );
  standIn.child.kill();
  result.load_average_end = loadavg().map((l) => round(l, 2));
  await app.close();
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });

  mkdirSync('bench/results', { recursive: true });
  writeFileSync(
    `bench/results/http${PIN ? '-pinned' : ''}${ONLY_PAIRS ? '-pairs' : ''}-${result.date.slice(0, 10)}.json`,
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log(JSON.stringify(result, null, 2));
  console.log(
    `\nload average: ${result.load_average_start.join(' ')} → ${result.load_average_end.join(' ')}`,
  );
  if (!ONLY_PAIRS) printRoutes(result);
  for (const cp of [result.cycle_pairs, result.cycle_pairs_paced, result.cycle_pairs_paced_control])
    console.log(
      `interleaved pairs (${cp.pairs}, load ${cp.load}, ${cp.per_client_rate} req/s per client, ${median(cp.load_req_per_s)} req/s): idle median ${cp.idle_median_s} s, loaded median ${cp.loaded_median_s} s (${cp.slowdown_pct}%); median of the per-pair ratios ${cp.ratio_median} (${cp.ratio_min}–${cp.ratio_max})`,
    );
}

/** The per-route table (Markdown) and the cycle under the routes' load. */
function printRoutes(result) {
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
