// What each steady cycle leaves in the old generation (promoted or allocated there directly): the
// quantity that decides how often V8 runs a full collection, and so the CPU a low `manage.heap_growth`
// costs. N presets × 10 VMs on the simulated cloud (in this process, or `--remote=1`: a simulator process),
// 10 warm-up cycles, then `--cycles` measured ones; a cycle during which V8 ran a full collection is left
// out (the old generation shrank). `--profile=1` adds V8's sampling heap profile of what survived a
// scavenge, by allocation site. Run: `node --expose-gc bench/promotion.js --vms 20000 [--remote=1]`
// (after `npm run build`; V8 flags go on node's command line, e.g. --allocation-site-pretenuring).

import { Session } from 'node:inspector/promises';
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { getHeapSpaceStatistics } from 'node:v8';
import { howNodeRuns } from './as-the-daemon-runs.js';
import { benchArgs, benchDaemon, converge, median, sleep, startSimulator } from './scenario.js';

const args = benchArgs();
const VMS = Number(args.vms ?? 20_000);
const COUNT = 10;
const remote = args.remote ? await startSimulator('{latency: 0, boot_time: 0}') : undefined;
const { daemon } = await benchDaemon({ presets: VMS / COUNT, count: COUNT, latency: 0, bootTime: 0, remote });
await converge(daemon, VMS, remote?.size);
for (let i = 0; i < 10; i++) {
  await sleep(1100);
  await daemon.runCycle();
}

let fullGcs = 0;
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) if (e.detail?.kind === constants.NODE_PERFORMANCE_GC_MAJOR) fullGcs++;
}).observe({ entryTypes: ['gc'] });
const oldGeneration = () =>
  getHeapSpaceStatistics()
    .filter((s) => s.space_name !== 'new_space')
    .reduce((sum, s) => sum + s.space_used_size, 0);

const session = args.profile ? new Session() : undefined;
if (session) {
  session.connect();
  await session.post('HeapProfiler.startSampling', {
    samplingInterval: 4096,
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: false,
  });
}
const promoted = [];
const cpu = [];
for (let i = 0; i < Number(args.cycles ?? 8); i++) {
  await sleep(1100);
  const gcs = fullGcs;
  const before = oldGeneration();
  const c0 = process.cpuUsage();
  await daemon.runCycle();
  const after = oldGeneration();
  const c = process.cpuUsage(c0);
  await sleep(20); // GC entries are delivered asynchronously
  cpu.push((c.user + c.system) / 1e6);
  if (fullGcs === gcs) promoted.push((after - before) / 2 ** 20);
}
const result = {
  vms: VMS,
  cloud: remote ? 'simulator process' : 'in process',
  ...howNodeRuns(),
  old_generation_per_cycle_mb: {
    median: Number(median(promoted).toFixed(1)),
    all: promoted.map((p) => Number(p.toFixed(1))),
  },
  cycle_cpu_s: Number(median(cpu).toFixed(3)),
};
if (session) {
  const { profile } = await session.post('HeapProfiler.stopSampling');
  const bySite = new Map();
  const walk = (node, stack) => {
    const f = node.callFrame;
    const frame = `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
    const sites = [frame, ...stack].slice(0, 3);
    const key = sites.join(' < ');
    if (node.selfSize) bySite.set(key, (bySite.get(key) ?? 0) + node.selfSize);
    for (const child of node.children) walk(child, sites);
  };
  walk(profile.head, []);
  result.survivors_by_site_mb_per_cycle = Object.fromEntries(
    [...bySite]
      .sort((a, b) => b[1] - a[1])
      .slice(0, 15)
      .map(([site, bytes]) => [site, Number((bytes / 2 ** 20 / cpu.length).toFixed(2))]),
  );
}
console.log(JSON.stringify(result, null, 2));
remote?.child.kill();
process.exit(0);
