// Core benchmark (issue 2): 1000 presets × 10 VMs on the simulated cloud with 100 ms per call and at most
// 32 calls in flight. Measures the first convergence, steady cycles (wall and CPU), calls in flight, and
// memory at 100,000 VMs. Run with `npm run bench` (builds first); prints a JSON summary.

import { rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { howNodeRuns } from './as-the-daemon-runs.js';
import { benchArgs, benchDaemon, converge, median, sleep, startSimulator } from './scenario.js';

const args = benchArgs();
const PRESETS = Number(args.presets ?? 1000);
const COUNT = Number(args.count ?? 10);
const LATENCY = Number(args.latency ?? 0.1);
const STEADY = Number(args.steady ?? 7);
const MEMORY_VMS = Number(args['memory-vms'] ?? 100_000);

/** Converges MEMORY_VMS VMs without latency, runs a few steady cycles, and reports the footprint. */
async function memoryPhase() {
  const presets = MEMORY_VMS / COUNT;
  // --remote: the simulated cloud runs in a process of its own. Latency and boot time 0 there too (the
  // simulator's own defaults are 0.1 s and 3 s): a VM runs once it exists, and 100,000 creates take
  // seconds rather than the 5 minutes 100 ms per call costs at 32 in flight.
  const remote = args.remote ? await startSimulator('{latency: 0, boot_time: 0}') : undefined;
  const heapGrowth = args['heap-growth'];
  const { daemon } = await benchDaemon({
    presets,
    count: COUNT,
    latency: 0,
    bootTime: 0,
    remote,
    heapGrowth,
  });
  await converge(daemon, MEMORY_VMS, remote?.size);
  // Steady means every VM's health history is full (manage.health_history, 10 checks): until then each
  // cycle gives every VM a new health record and snapshot, which is start-up, not the steady state.
  const warmup = Number(args['memory-warmup'] ?? 10);
  for (let i = 0; i < warmup; i++) {
    await sleep(1100);
    await daemon.runCycle();
  }
  // The resident memory while cycling, read every 100 ms (between cycles and during them, whenever the
  // event loop turns): what a memory limit on the daemon must allow, not only the footprint at rest.
  const samples = [];
  const afterCycle = [];
  const heapTotals = [];
  const sampler = setInterval(() => {
    const u = process.memoryUsage();
    samples.push(Math.round(u.rss / 2 ** 20));
    heapTotals.push(Math.round(u.heapTotal / 2 ** 20));
  }, 100);
  // How long the event loop (the API, the panel, lease renewals) waited at worst: the cycle's own work
  // and V8's pauses (on the main thread only: DAEMON_NODE_FLAGS).
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const until = performance.now() + Number(args['memory-steady'] ?? 3) * 1000;
  const cycleCpu = [];
  const cycleWall = [];
  while (performance.now() < until) {
    await sleep(1100);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await daemon.runCycle();
    cycleWall.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cycleCpu.push((c.user + c.system) / 1e6);
    afterCycle.push(Math.round(process.memoryUsage().rss / 2 ** 20));
  }
  clearInterval(sampler);
  loopDelay.disable();
  global.gc?.();
  await sleep(200);
  global.gc?.();
  // Right after a GC, the pages it freed are still mapped: V8 returns them to the system from a
  // background task. Both readings are reported; the settled one is the footprint at rest.
  const rssAfterGc = process.memoryUsage().rss;
  await sleep(1000);
  const usage = process.memoryUsage();
  const mb = (n) => Math.round(n / 2 ** 20);
  const footprint = {
    vms: MEMORY_VMS,
    presets,
    rss_mb: mb(usage.rss),
    rss_right_after_gc_mb: mb(rssAfterGc),
    heap_used_mb: mb(usage.heapUsed),
    heap_total_mb: mb(usage.heapTotal),
    external_mb: mb(usage.external),
    steady_s: Number(args['memory-steady'] ?? 3),
    warmup_cycles: warmup,
    rss_while_cycling_mb: {
      median: median(samples),
      peak: Math.max(...samples),
      min: Math.min(...samples),
      // Share of the samples at or above the 300 MB (how often a reading would show it).
      share_at_300_or_more: Number((samples.filter((mb) => mb >= 300).length / samples.length).toFixed(2)),
      samples: samples.length,
    },
    heap_total_while_cycling_mb: { median: median(heapTotals), peak: Math.max(...heapTotals) },
    rss_after_each_cycle_mb: afterCycle,
    // What the memory costs in time: a V8 setting that lowers the peak may spend CPU on collection.
    cycle_s: { wall: Number(median(cycleWall).toFixed(3)), cpu: Number(median(cycleCpu).toFixed(3)) },
    event_loop_delay_ms: {
      p99: Math.round(loopDelay.percentile(99) / 1e6),
      max: Math.round(loopDelay.max / 1e6),
    },
    cloud: remote ? 'simulator process' : 'in process',
    heap_growth: daemon.config.manage.heap_growth,
    ...howNodeRuns(),
  };
  remote?.child.kill();
  console.log(JSON.stringify(footprint));
}

async function main() {
  const result = {
    date: new Date().toISOString(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
    scenario: { presets: PRESETS, count: COUNT, latency_s: LATENCY, max_calls_in_flight: 32 },
    ...howNodeRuns(),
  };

  // 1. First convergence and steady cycles.
  const { daemon, dir } = await benchDaemon({
    presets: PRESETS,
    count: COUNT,
    latency: LATENCY,
    bootTime: 1,
  });
  const first = await converge(daemon, PRESETS * COUNT);
  result.first_convergence_s = Number(first.seconds.toFixed(2));
  result.first_convergence_cycles = first.cycles;
  const walls = [];
  const cpu = [];
  for (let i = 0; i < STEADY; i++) {
    await sleep(1100); // the shared listing must start after the presets' last save (1 s skew margin)
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const summary = await daemon.runCycle();
    walls.push((performance.now() - t0) / 1000);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1e6);
    if (summary.created || summary.terminated || summary.failed) result.steady_not_quiet = summary;
  }
  result.steady_cycle_s = {
    median: Number(median(walls).toFixed(3)),
    all: walls.map((w) => Number(w.toFixed(3))),
  };
  result.steady_cpu_s = { median: Number(median(cpu).toFixed(3)), all: cpu.map((w) => Number(w.toFixed(3))) };
  const accounts = await daemon.drivers.allAccounts();
  result.max_calls_in_flight = Math.max(...accounts.map((a) => a.maxInFlight));
  const calls = await daemon.metrics.registry.getSingleMetricAsString('vmshepherd_cloud_calls_total');
  result.cloud_calls = Object.fromEntries(
    [...calls.matchAll(/verb="(\w+)"\} (\d+)/g)].map((m) => [m[1], Number(m[2])]),
  );
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });

  // 2. Memory with MEMORY_VMS VMs managed, in a process of its own (RSS never shrinks back).
  const { execFileSync } = await import('node:child_process');
  const memory = execFileSync(
    process.execPath,
    [
      // The same V8 flags as this process (e.g. --compact-on-every-full-gc when measuring one), and gc().
      ...process.execArgv.filter((a) => a !== '--expose-gc'),
      '--expose-gc',
      new URL(import.meta.url).pathname,
      '--phase=memory',
      `--memory-vms=${MEMORY_VMS}`,
      `--memory-steady=${args['memory-steady'] ?? 3}`,
      `--memory-warmup=${args['memory-warmup'] ?? 10}`,
      ...(args['heap-growth'] ? [`--heap-growth=${args['heap-growth']}`] : []),
      `--count=${COUNT}`,
    ],
    { encoding: 'utf8' },
  );
  result.memory = JSON.parse(memory);

  console.log(JSON.stringify(result, null, 2));
  const out = join('bench', 'results', `core-${result.date.slice(0, 10)}.json`);
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
}

if (args.phase === 'memory') await memoryPhase();
else await main();
process.exit(0);
