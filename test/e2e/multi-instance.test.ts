import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import {
  fenceViolations,
  fleetSettings,
  type Instance,
  managesPerInstance,
  runningByPreset,
  type Simulator,
  startInstance,
  startSimulator,
  stopChild,
  timeOf,
  waitFor,
  writePresets,
} from '../helpers/fleet.js';
import { tempDir } from '../helpers/tmp.js';

const PRESETS = 200;
const TTL_S = 4;
const INTERVAL_S = 1;
/** How long the share of manages of each instance is counted. */
const SPREAD_WINDOW_MS = 20_000;
const uniq = () => `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
const pgSchema = `t_fleet_${uniq()}`;

const RUNTIMES = [
  {
    name: 'PostgresDriver',
    block: () => `  driver: PostgresDriver\n  url: ${inject('pgUrl')}\n  schema: ${pgSchema}\n  pool_size: 4`,
  },
  {
    name: 'ZookeeperDriver',
    block: () =>
      `  driver: ZookeeperDriver\n  servers: ${inject('zkServers')}\n  working_path: /vmshepherd-test/fleet-${uniq()}\n  session_timeout: ${TTL_S}`,
  },
];

let sim: Simulator | undefined;
let instances: Instance[] = [];

afterEach(async () => {
  await Promise.all(instances.map((i) => stopChild(i.child, 'SIGKILL')));
  instances = [];
  await sim?.stop();
  sim = undefined;
});

afterAll(async () => {
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${pgSchema}" CASCADE`);
  await client.end();
});

describe.each(RUNTIMES)('three vmshepherd processes sharing $name', (runtime) => {
  it('manage 200 presets one holder at a time, spread the work, and take over a killed instance within TTL + interval', async () => {
    sim = await startSimulator('{latency: 0.01, boot_time: 0.5, seed: 5}');
    const dir = tempDir();
    mkdirSync(join(dir, 'presets'));
    const names = writePresets(dir, PRESETS, 2, `manage_interval: 2\nmanage_expire: ${TTL_S}\n`);
    const settings = fleetSettings(INTERVAL_S, runtime.block(), sim);
    instances = ['a', 'b', 'c'].map((id) => startInstance(dir, id, settings));
    const s = sim;
    const converged = (count: number) => async () => {
      const running = await runningByPreset(s);
      return names.every((n) => running.get(n) === count);
    };
    const firstConverge = await waitFor('200 presets × 2 VMs', converged(2), 120_000);

    // Spread: who managed how many presets, over 20 steady cycles or so. Presets managed together fall
    // due together and go to whichever instance cycles first after that, so the shares move by whole
    // batches: over 10 s (about ten such races) one instance fell to 6 % in CI now and then.
    const steadyFrom = Date.now();
    await new Promise((r) => setTimeout(r, SPREAD_WINDOW_MS));
    const spread = managesPerInstance(instances, steadyFrom);
    const total = Object.values(spread).reduce((a, b) => a + b, 0);
    console.log(
      `${runtime.name}: converged in ${firstConverge} ms; manages per instance over ${SPREAD_WINDOW_MS / 1000} s: ${JSON.stringify(spread)}`,
    );
    expect(total).toBeGreaterThan(PRESETS);
    for (const n of Object.values(spread)) expect(n / total).toBeGreaterThan(0.1);

    // Scale every preset up, and kill -9 one instance while it is creating VMs: the first one seen creating
    // (on a loaded machine one instance may reload its presets after the others created everything).
    const scaledAt = Date.now();
    writePresets(dir, PRESETS, 3, `manage_interval: 2\nmanage_expire: ${TTL_S}\n`);
    const creating = () =>
      instances.find((i) => i.lines.some((l) => l.msg === 'created VM' && timeOf(l) >= scaledAt));
    await waitFor('an instance creating VMs under a lease', async () => creating() !== undefined, 60_000);
    const victim = creating()!;
    // The victim's open leases, as its log tells them so far (read incrementally: polled every few ms).
    const open = new Map<string, number>();
    let read = 0;
    const holding = () => {
      for (; read < victim.lines.length; read++) {
        const l = victim.lines[read]!;
        if (typeof l.preset !== 'string') continue;
        if (l.msg === 'lease taken') open.set(l.preset, l.fence as number);
        if (l.msg === 'lease released') open.delete(l.preset);
      }
      return open;
    };
    // Freeze the victim the moment its log shows an open lease (a manage holds one for milliseconds, so
    // freezing at random moments can miss them all for a minute), let the lines already in the pipe
    // arrive, and kill it only if it still holds a lease then: it might have released them just before.
    let killedAt = 0;
    await waitFor(
      `${victim.id} frozen while holding a lease`,
      async () => {
        if (holding().size === 0) return false;
        victim.child.kill('SIGSTOP');
        const stoppedAt = Date.now();
        await new Promise((r) => setTimeout(r, 300));
        if (holding().size === 0) {
          victim.child.kill('SIGCONT');
          return false;
        }
        victim.child.kill('SIGKILL');
        killedAt = stoppedAt;
        return true;
      },
      60_000,
      2,
    );
    // Leases the victim held when it died: each taken over by another instance within TTL + interval.
    const held = new Map(holding());
    expect(held.size).toBeGreaterThan(0);
    await waitFor('200 presets × 3 VMs after the kill', converged(3), 120_000);
    const others = instances.filter((i) => i !== victim);
    const takeover = (preset: string, fence: number) =>
      others
        .flatMap((i) => i.lines)
        .filter((l) => l.preset === preset && l.msg === 'lease taken' && (l.fence as number) > fence)
        .sort((x, y) => timeOf(x) - timeOf(y))[0];
    // A preset the victim had just converged is taken over at its next manage, maybe after convergence.
    await waitFor(
      'leases of the killed instance taken over',
      async () => [...held].every(([preset, fence]) => takeover(preset, fence)),
      30_000,
    );
    const delays = [...held].map(([preset, fence]) => timeOf(takeover(preset, fence)!) - killedAt);
    const worst = Math.max(...delays);
    console.log(
      `${runtime.name}: ${held.size} leases held by the killed instance, taken over after at most ${worst} ms`,
    );
    // One TTL, one cycle interval (±20% jitter), and the manage that notices it queued behind the others of
    // its cycle on a loaded, shared 2-core machine (3 s slack).
    expect(worst).toBeLessThan((TTL_S + 1.2 * INTERVAL_S) * 1000 + 3_000);

    const violations = fenceViolations(instances, new Map([[victim.id, killedAt]]));
    for (const v of violations.slice(0, 2))
      for (const l of instances
        .flatMap((i) => i.lines)
        .filter((l) => l.preset === v.preset)
        .sort((x, y) => timeOf(x) - timeOf(y)))
        console.log(
          'TRACE',
          v.preset,
          l.time,
          l.instance,
          l.msg,
          l.fence,
          l.takenOver,
          l.result,
          l.why ?? '',
          l.code ?? '',
        );
    expect(violations).toEqual([]);
    const { maxPerPreset } = await sim.stats();
    const over = Object.entries(maxPerPreset).filter(([, n]) => n > 3 + 1);
    expect(over).toEqual([]);
    for (const i of others) expect(i.child.exitCode).toBeNull();
  }, 300_000);
});
