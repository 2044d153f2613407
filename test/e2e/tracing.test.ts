import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-node';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { Daemon } from '../../src/daemon/daemon.js';
import type { Task } from '../../src/daemon/tasks.js';
import { buildServer } from '../../src/http/server.js';
import { OPERATE_TOKEN, tokensBlock } from '../helpers/api.js';
import { taskEnded, testDaemon } from '../helpers/daemon.js';
import { fleetSettings, startSimulator } from '../helpers/fleet.js';
import { tempDir } from '../helpers/tmp.js';

const exporter = new InMemorySpanExporter();

const settings = (iaas: string) => `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0${iaas}}
`;

async function daemonWithSpans(iaas: string) {
  const t = await testDaemon(settings(iaas), { 'a.conf': 'name: a\ncount: 2\nmanage_interval: 0\n' });
  await t.daemon.stop();
  // Same directory, with the test exporter: spans go to memory.
  const daemon = await Daemon.create({
    configFile: `${t.dir}/settings.yaml`,
    logDestination: {
      write: (line: string) => t.logs.push(JSON.parse(line)),
    } as unknown as NodeJS.WritableStream,
    pretty: false,
    spanExporter: exporter,
  });
  return { daemon, logs: t.logs };
}

describe('traces', () => {
  it('has a span per cycle, per manage under it, and per cloud call under the manage; log lines carry the trace id', async () => {
    exporter.reset();
    const { daemon, logs } = await daemonWithSpans('');
    try {
      await daemon.runOnce();
    } finally {
      await daemon.stop();
    }
    const spans = exporter.getFinishedSpans();
    const cycle = spans.find((s) => s.name === 'vmshepherd.cycle')!;
    const manage = spans.find((s) => s.name === 'vmshepherd.manage')!;
    const creates = spans.filter((s) => s.name === 'vmshepherd.cloud.create');
    expect(cycle).toBeDefined();
    expect(manage.parentSpanContext?.spanId).toBe(cycle.spanContext().spanId);
    expect(manage.attributes).toMatchObject({
      'vmshepherd.preset': 'a',
      'vmshepherd.result': 'managed',
      'vmshepherd.created': 2,
    });
    expect(creates).toHaveLength(2);
    for (const c of creates) expect(c.parentSpanContext?.spanId).toBe(manage.spanContext().spanId);
    const created = logs.filter((l) => l.msg === 'created VM');
    expect(created).toHaveLength(2);
    for (const l of created) expect(l.trace_id).toBe(cycle.spanContext().traceId);
  });

  it('marks failed spans with the error code', async () => {
    exporter.reset();
    const { daemon } = await daemonWithSpans(', error_rate: 1');
    try {
      await daemon.runOnce();
    } finally {
      await daemon.stop();
    }
    const spans = exporter.getFinishedSpans();
    const manage = spans.find((s) => s.name === 'vmshepherd.manage')!;
    expect(manage.status.code).toBe(2); // ERROR
    expect(manage.attributes['error.code']).toBe('dummy_call_2001');
    const calls = spans.filter((s) => s.name.startsWith('vmshepherd.cloud.'));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((s) => s.status.code === 2 && s.attributes['error.code'] === 'dummy_call_2001')).toBe(
      true,
    );
  });
});

const schema = `t_tasktrace_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;

afterAll(async () => {
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

/** Two instances over one PostgreSQL store and one simulator, both exporting spans to `exporter`. */
async function twoInstances(sim: { url: string; token: string }) {
  const runtime = `  driver: PostgresDriver\n  url: ${inject('pgUrl')}\n  schema: ${schema}`;
  const dir = tempDir({ 'presets/a.conf': 'name: a\ncount: 1\nmanage_interval: 0\n' });
  const create = (id: string) => {
    writeFileSync(
      join(dir, `${id}.yaml`),
      `instance_id: ${id}\n${fleetSettings(1, runtime, sim)}${tokensBlock()}`,
    );
    return Daemon.create({
      configFile: join(dir, `${id}.yaml`),
      logDestination: { write: () => true } as unknown as NodeJS.WritableStream,
      pretty: false,
      spanExporter: exporter,
    });
  };
  return [await create('A'), await create('B')] as const;
}

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';

describe('task traces', () => {
  it("links the executor's task span to the request that submitted it on another instance; steps are its children, a failed one with its code", async () => {
    const sim = await startSimulator('{"latency": 0, "boot_time": 0}');
    const [a, b] = await twoInstances(sim);
    const app = buildServer(a);
    try {
      // A manages first (it learns the preset and creates its VM) and lets the lease go; B runs the task.
      await a.runOnce();
      const [vm] = (await a.presetState('a')).vms;
      expect(vm).toBeDefined();
      exporter.reset();
      const res = await app.inject({
        method: 'POST',
        url: `/api/v1/presets/a/vms/${vm?.id}/restart`,
        headers: {
          authorization: `Bearer ${OPERATE_TOKEN}`,
          traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01`,
        },
      });
      expect(res.statusCode, res.body).toBe(202);
      const submitted = res.json() as Task;
      expect((await taskEnded(b, submitted.id)).state).toBe('done');
      const spans = exporter.getFinishedSpans();
      const request = spans.find((s) => s.name === 'POST /api/v1/presets/:name/vms/:id/:verb')!;
      expect(request.spanContext().traceId).toBe(CALLER_TRACE);
      expect(request.parentSpanContext?.spanId).toBe(CALLER_SPAN);
      expect(submitted.trace?.traceparent).toBe(`00-${CALLER_TRACE}-${request.spanContext().spanId}-01`);
      const task = spans.find((s) => s.name === 'task restart')!;
      expect(task.attributes).toMatchObject({
        'vmshepherd.task.id': submitted.id,
        'vmshepherd.preset': 'a',
        'vmshepherd.vm': vm?.id,
        'vmshepherd.verb': 'restart',
        'vmshepherd.task.attempt': 1,
        'vmshepherd.instance': 'B',
        'vmshepherd.task.state': 'done',
      });
      expect(task.links.map((l) => l.context.spanId)).toEqual([request.spanContext().spanId]);
      expect(task.spanContext().traceId).not.toBe(CALLER_TRACE);
      // Besides the steps, the disruption budget's look at the cloud before the reboot is the task's.
      const steps = childrenOf(spans, task).filter((s) => s.name.startsWith('task step '));
      expect(steps.map((s) => [s.name, s.attributes['vmshepherd.task.step.outcome']])).toEqual([
        ['task step check', 'done'],
        ['task step reboot', 'done'],
        ['task step record', 'done'],
      ]);
      const reboot = steps.find((s) => s.name === 'task step reboot')!;
      expect(childrenOf(spans, reboot).map((s) => s.name)).toContain('vmshepherd.cloud.reboot');
      const everything = JSON.stringify(spans.map((s) => [s.attributes, s.links, s.events]));
      expect(everything).not.toContain(OPERATE_TOKEN);
      expect(everything).not.toContain(sim.token);

      // The VM goes before B takes the next task up: its `check` fails, and both spans say with what.
      exporter.reset();
      const again = await app.inject({
        method: 'POST',
        url: `/api/v1/presets/a/vms/${vm?.id}/restart`,
        headers: { authorization: `Bearer ${OPERATE_TOKEN}` },
      });
      expect(again.statusCode, again.body).toBe(202);
      await fetch(`${sim.url}/v1/terminate`, {
        method: 'POST',
        headers: { authorization: `Bearer ${sim.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ args: [vm?.id] }),
      });
      expect((await taskEnded(b, (again.json() as Task).id)).state).toBe('failed');
      const failed = exporter.getFinishedSpans();
      const failedTask = failed.find((s) => s.name === 'task restart')!;
      expect(failedTask.attributes['error.code']).toBe('vm_verb_0002');
      const [check] = childrenOf(failed, failedTask).filter((s) => s.name.startsWith('task step '));
      expect(check?.attributes).toMatchObject({
        'vmshepherd.task.step': 'check',
        'vmshepherd.task.step.outcome': 'failed',
        'error.code': 'vm_verb_0002',
      });
    } finally {
      await app.close();
      await a.stop();
      await b.stop();
      await sim.stop();
    }
  });
});

function childrenOf(spans: ReadableSpan[], parent: ReadableSpan): ReadableSpan[] {
  return spans
    .filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId)
    .sort((x, y) => x.startTime[0] - y.startTime[0] || x.startTime[1] - y.startTime[1]);
}
