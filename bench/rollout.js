// Rollout benchmark (issue 7): 100 presets × 10 VMs on the simulated cloud (boot 5 s, max_surge 2); every
// preset's image changes at once. Measures how long the rolling replacement takes, and checks that no preset
// ever had fewer healthy VMs than `count`, twice: from the events the loop recorded (each outdated VM was
// retired only while enough VMs were ready) and by sampling the cloud. `npm run bench:rollout`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Daemon } from '../dist/daemon/daemon.js';
import { simulatedClouds } from '../dist/drivers/iaas/dummy/driver.js';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const PRESETS = Number(args.presets ?? 100);
const COUNT = Number(args.count ?? 10);
const BOOT = Number(args.boot ?? 5);
const SURGE = Number(args.surge ?? 2);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-rollout-'));
mkdirSync(join(dir, 'presets'));
writeFileSync(
  join(dir, 'settings.yaml'),
  `log_level: warn
worker_interval: 1
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
manage: {refresh_interval: 600, events_kept: 200}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.05, boot_time: ${BOOT}, limits: {max_concurrent_calls: 32}}
  healthcheck: {driver: DummyHealthcheck}
`,
);
const writePresets = (image) => {
  for (let i = 0; i < PRESETS; i++) {
    writeFileSync(
      join(dir, 'presets', `p${i}.conf`),
      `name: p${i}\ncount: ${COUNT}\nimage: ${image}\nflavor: small\nmanage_interval: 0\nupdate: {max_surge: ${SURGE}, max_unavailable: 0}\n`,
    );
  }
};
writePresets('release-1');

const byPreset = () => {
  const m = new Map();
  for (const cloud of simulatedClouds()) {
    for (const vm of cloud.peek()) {
      const p = vm.metadata.vmshepherd_preset;
      if (!m.has(p)) m.set(p, []);
      m.get(p).push(vm);
    }
  }
  return m;
};

const daemon = await Daemon.create({
  configFile: join(dir, 'settings.yaml'),
  logDestination: new Writable({ write: (_c, _e, d) => d() }),
  pretty: false,
});
await daemon.start();
const allRunning = (image) => {
  const m = byPreset();
  if (m.size < PRESETS) return false;
  for (const vms of m.values()) {
    if (vms.length !== COUNT || vms.some((v) => v.state !== 'running' || (image && v.image !== image)))
      return false;
  }
  return true;
};
while (!allRunning()) await sleep(250);
await sleep(3000); // every VM checked healthy at least once

writePresets('release-2');
const started = performance.now();
await daemon.refreshPresets();
let minRunning = Number.POSITIVE_INFINITY;
let maxVms = 0;
while (!allRunning('release-2')) {
  for (const vms of byPreset().values()) {
    minRunning = Math.min(minRunning, vms.filter((v) => v.state === 'running').length);
    maxVms = Math.max(maxVms, vms.length);
  }
  await sleep(200);
}
const duration = (performance.now() - started) / 1000;
await sleep(2500); // the rollout_done events of the last presets
await daemon.stop();

// From the events: in each manage (one fencing token), the outdated VMs retired may not take the ready
// VMs below min_ready (count - max_unavailable).
let retired = 0;
let violations = 0;
let done = 0;
for (let i = 0; i < PRESETS; i++) {
  const state = await daemon.runtime.load(`p${i}`);
  const byToken = new Map();
  for (const e of state.events) {
    if (e.type === 'rollout_done') done++;
    if (e.type !== 'terminated' || !e.reason.startsWith('outdated')) continue;
    retired++;
    const group = byToken.get(e.token) ?? { ready: e.data.ready, min: e.data.min_ready, n: 0 };
    group.n++;
    byToken.set(e.token, group);
  }
  for (const g of byToken.values()) if (g.ready - g.n < g.min) violations++;
}
rmSync(dir, { recursive: true, force: true });

const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, node ${process.version}`,
  scenario: { presets: PRESETS, count: COUNT, boot_s: BOOT, max_surge: SURGE, max_unavailable: 0 },
  rollout_s: Number(duration.toFixed(1)),
  outdated_vms_retired: retired,
  presets_done: done,
  event_check:
    violations === 0 ? 'no manage retired VMs below count ready' : `${violations} manages below count`,
  sampled_min_running_per_preset: minRunning,
  sampled_max_vms_per_preset: maxVms,
};
console.log(JSON.stringify(result, null, 2));
writeFileSync(
  join('bench', 'results', `rollout-${result.date.slice(0, 10)}.json`),
  `${JSON.stringify(result, null, 2)}\n`,
);
process.exit(violations === 0 && minRunning >= COUNT && retired === PRESETS * COUNT ? 0 : 1);
