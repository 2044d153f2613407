import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { postgresOptionsSchema } from '../../src/drivers/runtime/postgres/options.js';
import { PostgresRuntime } from '../../src/drivers/runtime/postgres/postgres-runtime.js';
import { zookeeperOptionsSchema } from '../../src/drivers/runtime/zookeeper/options.js';
import { ZookeeperRuntime } from '../../src/drivers/runtime/zookeeper/zookeeper-runtime.js';
import type { RuntimeStore } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { daemonIn } from '../helpers/daemon.js';
import {
  fenceViolations,
  fleetSettings,
  type Instance,
  runningByPreset,
  type Simulator,
  startInstance,
  startSimulator,
  stopChild,
  waitFor,
  writePresets,
} from '../helpers/fleet.js';
import { startPostgresCluster } from '../helpers/postgres-server.js';
import { tempDir } from '../helpers/tmp.js';
import { startZookeeper } from '../helpers/zookeeper-server.js';

const PRESETS = 40;
const OUTAGE_MS = 6_000;

/** A private server per test: restarting it never disturbs the machine's shared one or other tests. */
interface PrivateServer {
  code: string;
  block: string;
  store(): RuntimeStore;
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
  output?: () => string;
}

const SERVERS: { name: string; start: () => Promise<PrivateServer> }[] = [
  {
    name: 'PostgresDriver',
    start: async () => {
      const c = await startPostgresCluster();
      return {
        code: 'postgres_call_2001',
        block: `  driver: PostgresDriver\n  url: ${c.url}\n  pool_size: 4\n  connect_timeout: 2\n  query_timeout: 3`,
        store: () =>
          new PostgresRuntime(
            postgresOptionsSchema.parse({ url: c.url }),
            'observer',
            pino({ level: 'silent' }),
          ),
        stop: async () => c.stop(),
        start: async () => c.start(),
        destroy: async () => c.destroy(),
      };
    },
  },
  {
    name: 'ZookeeperDriver',
    start: async () => {
      const z = await startZookeeper();
      return {
        code: 'zookeeper_call_2001',
        block: `  driver: ZookeeperDriver\n  servers: ${z.servers}\n  session_timeout: 4\n  request_timeout: 2`,
        store: () =>
          new ZookeeperRuntime(
            zookeeperOptionsSchema.parse({ servers: z.servers }),
            'observer',
            pino({ level: 'silent' }),
          ),
        stop: () => z.stop(),
        start: () => z.start(),
        destroy: () => z.destroy(),
        output: () => z.output(),
      };
    },
  },
];

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
  cleanups = [];
});

describe.each(SERVERS)('$name restarted under load', (server) => {
  it('keeps every instance running, reports the outage by code and metric, resumes, and loses no state', async () => {
    const srv = await server.start();
    cleanups.push(() => srv.destroy());
    const sim: Simulator = await startSimulator('{latency: 0.01, boot_time: 0.3, seed: 9}');
    cleanups.push(() => sim.stop());
    const dir = tempDir();
    mkdirSync(join(dir, 'presets'));
    const extra = 'manage_interval: 1\nmanage_expire: 4\n';
    const names = writePresets(dir, PRESETS, 2, extra);
    const settings = fleetSettings(0.5, srv.block, sim);
    const instances: Instance[] = ['a', 'b'].map((id) => startInstance(dir, id, settings));
    cleanups.push(async () => void (await Promise.all(instances.map((i) => stopChild(i.child, 'SIGKILL')))));
    // A third instance in this process, whose metrics the test can read.
    const { writeFileSync } = await import('node:fs');
    writeFileSync(join(dir, 'settings-c.yaml'), `instance_id: c\nlog_level: warn\n${settings}`);
    const inProcess: Daemon = (await daemonIn(dir, 'settings-c.yaml')).daemon;
    cleanups.push(() => inProcess.stop());
    await inProcess.start();

    const converged = (count: number) => async () => {
      const running = await runningByPreset(sim);
      return names.every((n) => running.get(n) === count);
    };
    await waitFor(`${PRESETS} presets × 2 VMs`, converged(2), 90_000);

    await srv.stop();
    const downAt = Date.now();
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    await srv.start();
    const upAt = Date.now();
    for (const i of instances) expect(i.child.exitCode, `${i.id} still running`).toBeNull();
    const reported = () =>
      instances.map((i) => i.lines.some((l) => l.code === srv.code && Date.parse(String(l.time)) >= downAt));
    // Log lines arrive through a pipe: give them a moment.
    await waitFor(
      'the outage reported by both processes',
      async () => reported().every(Boolean),
      10_000,
    ).catch(() => undefined);
    expect(reported()).toEqual([true, true]);
    const metrics = await inProcess.metrics.registry.getSingleMetricAsString(
      'vmshepherd_runtime_errors_total',
    );
    expect(metrics).toMatch(new RegExp(`code="${srv.code}"} [1-9]`));

    // Resumes: a change after the outage is carried out, and every state is there and newer than the outage.
    writePresets(dir, PRESETS, 3, extra);
    await waitFor(`${PRESETS} presets × 3 VMs after the outage`, converged(3), 90_000).catch((err) => {
      // What the processes said since the server came back, to see why they did not resume.
      console.log('server output:', srv.output?.().slice(-3000) ?? '(not kept)');
      for (const i of instances)
        for (const l of i.lines
          .filter((l) => Date.parse(String(l.time)) > upAt && Number(l.level) >= 40)
          .slice(-8))
          console.log(
            i.id,
            l.time,
            l.msg,
            l.code ?? '',
            String(l.error ?? (l.err ? JSON.stringify(l.err) : '')).slice(0, 300),
          );
      throw err;
    });
    const store = srv.store();
    cleanups.push(async () => store.close?.());
    for (const name of names) {
      const state = parseState(await store.load(name));
      expect(state.lastManagedAt, name).toBeGreaterThan(upAt);
    }
    expect(fenceViolations(instances)).toEqual([]);
    const { maxPerPreset } = await sim.stats();
    expect(Object.entries(maxPerPreset).filter(([, n]) => n > 4)).toEqual([]);
  }, 300_000);
});
