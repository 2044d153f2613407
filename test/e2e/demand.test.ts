import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { handleRpc, type RpcDeps } from '../../src/api/json-rpc.js';
import { formatPreview } from '../../src/cli/commands/plan.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { queryPrometheus } from '../../src/drivers/demand/prometheus-query.js';
import { StateReader } from '../../src/http/state-reader.js';
import { type PresetState, parseState } from '../../src/reconcile/state.js';
import { systemClock } from '../../src/util/clock.js';
import { afterCycle, cloudVms, daemonIn, eventually, running } from '../helpers/daemon.js';
import {
  type PrometheusServer,
  startExporter,
  startPrometheus,
  type TestExporter,
} from '../helpers/prometheus-server.js';
import { tempDir } from '../helpers/tmp.js';

// A count that follows demand, against a real Prometheus scraping a test exporter (docs/demand.md).

const settings = `
worker_interval: 60
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0}
  healthcheck: {driver: DummyHealthcheck}
`;

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

const stateOf = async (d: Daemon, name: string): Promise<PresetState> =>
  parseState(await d.runtime.load(name));
const eventsOf = (s: PresetState, type: string) => s.events.filter((e) => e.type === type);
const metric = async (d: Daemon, name: string) => {
  const line = (await d.metrics.registry.metrics())
    .split('\n')
    .find((l) => l.startsWith(`${name}{preset="web"}`));
  return line === undefined ? undefined : Number(line.split(' ').pop());
};

describe('a count that follows a Prometheus query', () => {
  let exporter: TestExporter;
  let prometheus: PrometheusServer;
  beforeAll(async () => {
    exporter = await startExporter(25);
    prometheus = await startPrometheus(exporter.port);
  });
  afterAll(async () => {
    await prometheus?.destroy();
    await exporter?.close();
  });

  /** Waits until Prometheus answers `value` for the gauge: the scrape that follows a change. */
  const scraped = (value: number) =>
    eventually(
      () => prometheus.value('demand_value'),
      (v) => v === value,
      30_000,
      100,
    );

  it('reads one value, and refuses a query with no sample, several series or bad PromQL', async () => {
    await scraped(25);
    const q = (query: string) => queryPrometheus({ url: prometheus.url, query, timeoutMs: 5000 });
    expect(await q('demand_value')).toBe(25);
    expect(await q('sum(demand_value) / 2')).toBe(12.5);
    expect(await q('scalar(demand_value)')).toBe(25);
    await expect(q('absent_metric_of_this_test')).rejects.toMatchObject({
      code: 'reconcile_demand_0001',
      message: expect.stringContaining('no sample'),
    });
    await expect(q('{__name__=~"demand_value|up"}')).rejects.toMatchObject({
      message: expect.stringContaining('2 series'),
    });
    await expect(q('sum(')).rejects.toMatchObject({
      code: 'reconcile_demand_0001',
      message: expect.stringContaining('HTTP 400'),
    });
  });

  it('scales out on the next manage, in after the cooldown by step, and holds the count when Prometheus is gone', async () => {
    const dir = tempDir({ 'settings.yaml': settings });
    mkdirSync(join(dir, 'presets'));
    writeFileSync(
      join(dir, 'presets/web.conf'),
      `name: web
image: img
flavor: small
manage_interval: 0
count:
  min: 1
  max: 8
  target:
    prometheus: {url: '${prometheus.url}', query: demand_value, timeout: 2}
    per_vm: 10
  cooldown: 3
  step: 2
`,
    );
    const t = await daemonIn(dir);
    daemon = t.daemon;
    const d = t.daemon;
    expect((await d.refreshPresets()).problems).toEqual([]);
    await scraped(25);
    await d.runOnce();
    let state = await stateOf(d, 'web');
    expect(state.demand).toMatchObject({ count: 3, value: 25 });
    expect(eventsOf(state, 'count_changed')[0]).toMatchObject({ data: { from: 'none', to: 3, value: 25 } });
    expect(state.status?.desired).toBe(3);
    await eventually(
      afterCycle(d, () => running(cloudVms().get('web'))),
      (n) => n === 3,
      20_000,
    );

    // Up: one scrape, then one manage.
    exporter.set(72);
    await scraped(72);
    await d.runOnce();
    state = await stateOf(d, 'web');
    expect(state.demand?.count).toBe(8);
    expect(state.status?.desired).toBe(8);
    expect(eventsOf(state, 'count_changed').at(-1)).toMatchObject({ data: { from: 3, to: 8, value: 72 } });
    expect(await metric(d, 'vmshepherd_preset_desired_vms')).toBe(8);
    expect(await metric(d, 'vmshepherd_demand_value')).toBe(72);
    const rpcDeps = { daemon: d, reader: new StateReader(d, 0), caller: { name: 't', role: 'read' } };
    const listed = await handleRpc(
      { jsonrpc: '2.0', method: 'list_vms', params: { preset: 'web' }, id: 1 },
      rpcDeps as unknown as RpcDeps,
    );
    expect((listed as { result: [number, unknown] }).result[0]).toBe(8);
    await eventually(
      afterCycle(d, () => running(cloudVms().get('web'))),
      (n) => n === 8,
      20_000,
    );

    // Down: held for the cooldown, then at most `step` per manage, a cooldown apart.
    exporter.set(11);
    await scraped(11);
    await d.runOnce();
    state = await stateOf(d, 'web');
    expect(state.demand?.count).toBe(8);
    const belowSince = state.demand?.belowSince ?? 0;
    expect(belowSince).toBeGreaterThan(0);
    const [waiting] = await d.plan('web');
    expect(waiting?.count).toBe(8);
    expect(formatPreview(waiting!)).toMatch(
      /count 8, wants 2 \(value 11 \/ per_vm 10 = 2.*\): scale-in waits the cooldown, \d s left/,
    );
    state = await eventually(
      afterCycle(d, () => stateOf(d, 'web')),
      (s) => s.demand?.count !== 8,
      20_000,
    );
    const down = eventsOf(state, 'count_changed').at(-1)!;
    expect(down.data).toMatchObject({ from: 8, to: 6, value: 11 });
    expect(Date.parse(down.at)).toBeGreaterThanOrEqual(belowSince + 3000);
    state = await eventually(
      afterCycle(d, () => stateOf(d, 'web')),
      (s) => s.demand?.count !== 6,
      20_000,
    );
    const next = eventsOf(state, 'count_changed').at(-1)!;
    expect(next.data).toMatchObject({ from: 6, to: 4 });
    expect(Date.parse(next.at)).toBeGreaterThanOrEqual(Date.parse(down.at) + 3000);
    await eventually(
      afterCycle(d, () => running(cloudVms().get('web'))),
      (n) => n === 4,
      20_000,
    );

    // Prometheus gone: the count holds, the condition is reported once (event, metric, plan).
    await prometheus.stop();
    await d.runOnce();
    await d.runOnce();
    state = await stateOf(d, 'web');
    expect(state.demand?.count).toBe(4);
    expect(state.status?.desired).toBe(4);
    expect(state.demand?.unavailable?.error).toContain('/api/v1/query');
    const unavailable = eventsOf(state, 'demand_unavailable');
    expect(unavailable).toHaveLength(1);
    expect(unavailable[0]).toMatchObject({ code: 'reconcile_demand_2001', data: { count: 4 } });
    expect(await metric(d, 'vmshepherd_demand_unavailable')).toBe(1);
    expect(await metric(d, 'vmshepherd_demand_query_failures_total')).toBe(2);
    const [held] = await d.plan('web');
    expect(held?.count).toBe(4);
    expect(formatPreview(held!)).toMatch(
      /demand: count 4: query failed \(.*\): holding 4.*the count is held/,
    );
    expect(running(cloudVms().get('web'))).toBe(4);
    expect(cloudVms().get('web')).toHaveLength(4);
  });
});

describe('a count that follows a schedule', () => {
  it('takes the bounds of the open window, read in its time zone, on the injected clock', async () => {
    let now = Date.parse('2026-12-07T06:30:00Z'); // Monday 07:30 in Warsaw
    const clock = { ...systemClock, now: () => now };
    const dir = tempDir({ 'settings.yaml': settings });
    mkdirSync(join(dir, 'presets'));
    writeFileSync(
      join(dir, 'presets/office.conf'),
      `name: office
image: img
flavor: small
manage_interval: 0
count:
  min: 1
  max: 2
  schedule:
    - {cron: '0 8 * * 1-5', duration: 36000, timezone: Europe/Warsaw, min: 3, max: 6}
  cooldown: 600
`,
    );
    const t = await daemonIn(dir, 'settings.yaml', { clock });
    daemon = t.daemon;
    const d = t.daemon;
    expect((await d.refreshPresets()).problems).toEqual([]);
    await d.runOnce();
    expect((await stateOf(d, 'office')).demand?.count).toBe(1);
    now = Date.parse('2026-12-07T07:00:00Z'); // 08:00 in Warsaw: the window opens
    await d.runOnce();
    let state = await stateOf(d, 'office');
    expect(state.demand?.count).toBe(3);
    expect(eventsOf(state, 'count_changed').at(-1)?.reason).toContain(
      'window 0 8 * * 1-5 (Europe/Warsaw) open',
    );
    now = Date.parse('2026-12-07T17:00:00Z'); // 18:00: closed, the scale-in waits the cooldown
    await d.runOnce();
    expect((await stateOf(d, 'office')).demand?.count).toBe(3);
    const [plan] = await d.plan('office');
    expect(plan?.demand?.explain).toContain('scale-in waits the cooldown, 600 s left');
    now += 600_000;
    await d.runOnce();
    state = await stateOf(d, 'office');
    expect(state.demand?.count).toBe(2);
    expect(state.status?.desired).toBe(2);
  });
});
