import { mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import type { Task } from '../../src/daemon/tasks.js';
import { OPERATE_TOKEN, tokensBlock } from '../helpers/api.js';
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
import { tempDir } from '../helpers/tmp.js';

const TTL_S = 4;
const INTERVAL_S = 1;
const uniq = () => `${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
/** A schema per test (like ZooKeeper's path per test): a test's presets never see another's state. */
const pgSchemas: string[] = [];
const pgSchema = () => {
  const schema = `t_tasks_${uniq()}`;
  pgSchemas.push(schema);
  return schema;
};

const RUNTIMES = [
  {
    name: 'PostgresDriver',
    block: () =>
      `  driver: PostgresDriver\n  url: ${inject('pgUrl')}\n  schema: ${pgSchema()}\n  pool_size: 4`,
  },
  {
    name: 'ZookeeperDriver',
    block: () =>
      `  driver: ZookeeperDriver\n  servers: ${inject('zkServers')}\n  working_path: /vmshepherd-test/tasks-${uniq()}\n  session_timeout: ${TTL_S}`,
  },
];

let sim: Simulator | undefined;
const collector = await otlpCollector();
let instances: Instance[] = [];

afterEach(async () => {
  await Promise.all(instances.map((i) => stopChild(i.child, 'SIGKILL')));
  instances = [];
  await sim?.stop();
  sim = undefined;
});

afterAll(async () => {
  collector.close();
  const client = new pg.Client({ connectionString: inject('pgUrl') });
  await client.connect();
  for (const schema of pgSchemas) await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
});

/** The instance's API base URL, from its log. */
async function urlOf(i: Instance): Promise<string> {
  let port: number | undefined;
  await waitFor(
    `${i.id} listening`,
    async () => {
      port = i.lines.find((l) => l.msg === 'HTTP API and panel listening')?.port as number | undefined;
      return port !== undefined;
    },
    30_000,
  );
  return `http://127.0.0.1:${port}`;
}

async function call<T>(
  url: string,
  method: string,
  path: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: T }> {
  const res = await fetch(`${url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${OPERATE_TOKEN}`, ...headers },
  });
  return { status: res.status, body: (await res.json()) as T };
}

const ended = (t: Task) => t.state !== 'queued' && t.state !== 'running';

/** A fleet of instances over one simulator and runtime store; `idle` ones serve the API and manage once. */
async function fleet(
  runtimeBlock: string,
  simOptions: string,
  ids: string[],
  idle: string[],
  presets: number,
  extraSettings = '',
) {
  sim = await startSimulator(simOptions);
  const dir = tempDir();
  mkdirSync(join(dir, 'presets'));
  const names = writePresets(dir, presets, 2, `manage_interval: 1\nmanage_expire: ${TTL_S}\n`);
  const s = sim;
  instances = ids.map((id) =>
    startInstance(
      dir,
      id,
      fleetSettings(idle.includes(id) ? 3600 : INTERVAL_S, runtimeBlock, s) + tokensBlock() + extraSettings,
    ),
  );
  const urls = await Promise.all(instances.map(urlOf));
  await waitFor(
    `${presets} presets × 2 VMs`,
    async () => {
      const running = await runningByPreset(s);
      return names.every((n) => running.get(n) === 2);
    },
    120_000,
  );
  // Every instance knows every preset and its VMs (a request is checked against the last saved state).
  await waitFor(
    'the VMs seen through every API',
    async () => {
      for (const url of urls)
        for (const n of names) {
          const r = await call<unknown[]>(url, 'GET', `/presets/${n}/vms`);
          if (r.status !== 200 || r.body.length !== 2) return false;
        }
      return true;
    },
    60_000,
  );
  const vms = (await s.peek()).filter((v) => v.state === 'running');
  return { sim: s, urls, names, vms };
}

describe.each(RUNTIMES)('tasks across vmshepherd processes sharing $name', (runtime) => {
  it('runs a task submitted to A on B, which holds the lease, shows it from both, once per Idempotency-Key, its span linked to the request', async () => {
    const {
      sim: s,
      urls,
      vms,
    } = await fleet(
      runtime.block(),
      '{latency: 0.01, boot_time: 0.2, seed: 3}',
      ['a', 'b'],
      ['a'],
      1,
      `tracing: {otlp_endpoint: '${collector.url}'}\n`,
    );
    const [a, b] = urls as [string, string];
    const vm = vms[0]!;
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call<Task>(i % 2 ? b : a, 'POST', `/presets/p000/vms/${vm.id}/quiesce`, {
          'idempotency-key': 'quiesce-once',
        }),
      ),
    );
    expect(answers.map((r) => r.status)).toEqual(Array(10).fill(202));
    const id = answers[0]!.body.id;
    expect(new Set(answers.map((r) => r.body.id))).toEqual(new Set([id]));
    let task: Task | undefined;
    await waitFor(
      'the task done',
      async () => {
        task = (await call<Task>(a, 'GET', `/tasks/${id}`)).body;
        return ended(task);
      },
      30_000,
    );
    expect(task).toMatchObject({ state: 'done', executor: 'b', attempts: 1, by: 'ops' });
    expect((await call<Task>(b, 'GET', `/tasks/${id}`)).body).toEqual(task);
    for (const url of [a, b])
      expect((await call<Task[]>(url, 'GET', '/tasks?preset=p000')).body.map((t) => t.id)).toEqual([id]);
    expect((await s.peek()).find((v) => v.id === vm.id)?.state).toBe('stopped');
    expect((await s.stats()).calls.stop).toBe(1);
    await traceLinksTaskToRequest(task!);
    const lifecycle = async () =>
      (await call<{ id: string; lifecycle?: string }[]>(a, 'GET', '/presets/p000/vms')).body.find(
        (v) => v.id === vm.id,
      )?.lifecycle;
    await waitFor('the VM shown quiesced', async () => (await lifecycle()) === 'quiesced', 10_000);

    // The operator's other actions are tasks too: asked of A, run by B.
    const other = vms[1]!;
    const actions = [
      await call<Task>(a, 'DELETE', `/presets/p000/vms/${other.id}`),
      await call<Task>(a, 'POST', '/presets/p000/manage'),
      await call<Task>(a, 'POST', '/presets/p000/pause'),
    ];
    expect(actions.map((r) => [r.status, r.body.verb])).toEqual([
      [202, 'terminate'],
      [202, 'manage'],
      [202, 'pause'],
    ]);
    const endedTasks: Task[] = [];
    for (const r of actions) {
      await waitFor(
        `the ${r.body.verb} task done`,
        async () => {
          const t = (await call<Task>(a, 'GET', `/tasks/${r.body.id}`)).body;
          if (ended(t)) endedTasks.push(t);
          return ended(t);
        },
        30_000,
      );
    }
    expect(endedTasks.map((t) => [t.verb, t.state, t.executor])).toEqual([
      ['terminate', 'done', 'b'],
      ['manage', 'done', 'b'],
      ['pause', 'done', 'b'],
    ]);
    expect((await s.peek()).some((v) => v.id === other.id && v.state === 'running')).toBe(false);
    expect((await call<{ paused: boolean }>(a, 'GET', '/presets/p000')).body.paused).toBe(true);
  }, 240_000);

  it('finishes a scrub whose executor was killed -9 on the other instance within the lease TTL and a cycle', async () => {
    // Slow calls: the stop is in flight long enough to freeze its executor in the middle of it.
    const {
      sim: s,
      urls,
      vms,
    } = await fleet(runtime.block(), '{latency: 0.6, boot_time: 0.2, seed: 4}', ['a', 'b', 'c'], ['a'], 1);
    const a = urls[0]!;
    const vm = vms[0]!;
    const submitted = await call<Task>(a, 'POST', `/presets/p000/vms/${vm.id}/scrub`);
    expect(submitted.status).toBe(202);
    const id = submitted.body.id;
    const executors = instances.slice(1);
    const stopping = () =>
      executors.find((i) => i.lines.some((l) => l.msg === 'task step' && l.task === id && l.step === 'stop'));
    let killedAt = 0;
    let victim: Instance | undefined;
    await waitFor(
      'an executor in the stop step',
      async () => {
        victim = stopping();
        if (!victim) return false;
        victim.child.kill('SIGSTOP');
        killedAt = Date.now();
        victim.child.kill('SIGKILL');
        return true;
      },
      60_000,
      2,
    );
    const survivor = executors.find((i) => i !== victim)!;
    let task: Task | undefined;
    await waitFor(
      'the scrub finished by the other instance',
      async () => {
        task = (await call<Task>(a, 'GET', `/tasks/${id}`)).body;
        return ended(task);
      },
      60_000,
      100,
    );
    const finishedAfter = Date.parse(task!.finishedAt!) - killedAt;
    console.log(`${runtime.name}: scrub finished ${finishedAfter} ms after its executor was killed`);
    expect(task).toMatchObject({ state: 'done', executor: survivor.id });
    expect(task!.attempts).toBe(2);
    // The victim recorded the stop as started; the survivor found the VM stopped (or stopped it) and went on.
    expect(task!.steps.some((st) => st.name === 'stop' && st.instance === victim!.id)).toBe(true);
    expect(task!.steps.filter((st) => st.name === 'record' && st.state === 'done')).toHaveLength(1);
    expect(finishedAfter).toBeLessThan((TTL_S + 1.2 * INTERVAL_S) * 1000 + 3_000);
    expect((await s.peek()).find((v) => v.id === vm.id)?.state).toBe('stopped');
    expect((await s.stats()).calls.stop).toBe(1);
    const vmsNow = (await call<{ id: string; lifecycle?: string }[]>(a, 'GET', '/presets/p000/vms')).body;
    await waitFor(
      'the VM shown scrubbing',
      async () =>
        (await call<{ id: string; lifecycle?: string }[]>(a, 'GET', '/presets/p000/vms')).body.find(
          (v) => v.id === vm.id,
        )?.lifecycle === 'scrubbing',
      10_000,
    );
    expect(vmsNow.length).toBeGreaterThan(0);
    expect(fenceViolations(instances, new Map([[victim!.id, killedAt]]))).toEqual([]);
    expect(survivor.child.exitCode).toBeNull();
  }, 240_000);

  it('runs 200 tasks submitted across three instances exactly once each', async () => {
    const {
      sim: s,
      urls,
      vms,
    } = await fleet(runtime.block(), '{latency: 0.01, boot_time: 0, seed: 5}', ['a', 'b', 'c'], [], 20);
    expect(vms).toHaveLength(40);
    const before = (await s.stats()).calls.reboot ?? 0;
    const ids: string[] = [];
    for (let batch = 0; batch < 10; batch++) {
      const answers = await Promise.all(
        Array.from({ length: 20 }, (_, j) => {
          const i = batch * 20 + j;
          const vm = vms[i % vms.length]!;
          const preset = vm.metadata.vmshepherd_preset!;
          return call<Task>(urls[i % 3]!, 'POST', `/presets/${preset}/vms/${vm.id}/restart`, {
            'idempotency-key': `restart-${i}`,
          });
        }),
      );
      for (const r of answers) {
        expect(r.status).toBe(202);
        ids.push(r.body.id);
      }
    }
    expect(new Set(ids).size).toBe(200);
    let tasks: Task[] = [];
    await waitFor(
      '200 tasks ended',
      async () => {
        // The store may hold the tasks of the tests before (same schema or path): only this test's count.
        const mine = new Set(ids);
        tasks = (await call<Task[]>(urls[1]!, 'GET', '/tasks?limit=10000')).body.filter((t) =>
          mine.has(t.id),
        );
        return tasks.length === 200 && tasks.every(ended);
      },
      180_000,
      500,
    ).catch((err) => {
      const states: Record<string, number> = {};
      for (const t of tasks) states[t.state] = (states[t.state] ?? 0) + 1;
      console.log(
        'TASKS',
        tasks.length,
        JSON.stringify(states),
        JSON.stringify(tasks.find((t) => !ended(t))),
      );
      for (const i of instances)
        console.log(
          i.id,
          i.lines
            .filter((l) => /task|lease lost|manage failed/.test(l.msg))
            .slice(-5)
            .map((l) => `${l.msg} ${l.code ?? ''} ${l.err ?? ''}`)
            .join(' | '),
        );
      throw err;
    });
    expect(tasks.filter((t) => t.state !== 'done').map((t) => [t.state, t.error])).toEqual([]);
    for (const t of tasks) {
      const reboots = t.steps.filter((st) => st.name === 'reboot' && st.state === 'done');
      expect(reboots).toHaveLength(1);
    }
    expect((await s.stats()).calls.reboot! - before).toBe(200);
    const executors = new Set(tasks.map((t) => t.executor));
    console.log(`${runtime.name}: 200 tasks run by ${[...executors].join(', ')}`);
    expect(fenceViolations(instances)).toEqual([]);
  }, 400_000);
});

interface OtlpSpan {
  name: string;
  spanId: string;
  links?: { spanId: string }[];
  attributes?: { key: string; value: { stringValue?: string } }[];
}

/** An OTLP/HTTP JSON receiver: the spans every instance exported so far. */
async function otlpCollector() {
  const spans: OtlpSpan[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const parsed = JSON.parse(body) as {
        resourceSpans: { scopeSpans: { spans: OtlpSpan[] }[] }[];
      };
      for (const r of parsed.resourceSpans) for (const s of r.scopeSpans) spans.push(...s.spans);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/traces`, spans, close: () => server.close() };
}

/** OTLP/JSON ids are hex; base64 is what the protobuf mapping would give. */
const hexId = (id: string) =>
  /^[0-9a-f]+$/i.test(id) ? id.toLowerCase() : Buffer.from(id, 'base64').toString('hex');

const attribute = (s: OtlpSpan | undefined, key: string) =>
  s?.attributes?.find((x) => x.key === key)?.value.stringValue;

/** The executor's span for the task links to the server span of the request that submitted it. */
async function traceLinksTaskToRequest(task: Task) {
  const requestSpanId = task.trace?.traceparent.split('-')[2];
  expect(requestSpanId).toMatch(/^[0-9a-f]{16}$/);
  const find = () => ({
    // The collector serves every test of the file: this task's span, by its id.
    executed: collector.spans.find(
      (s) => s.name === `task ${task.verb}` && attribute(s, 'vmshepherd.task.id') === task.id,
    ),
    request: collector.spans.find((s) => hexId(s.spanId) === requestSpanId),
  });
  await waitFor('the spans exported', async () => Boolean(find().executed && find().request), 30_000);
  const { executed, request } = find();
  expect(request?.name).toBe('POST /api/v1/presets/:name/vms/:id/:verb');
  expect(executed?.links?.map((l) => hexId(l.spanId))).toEqual([requestSpanId]);
  expect(attribute(executed, 'vmshepherd.instance')).toBe(task.executor);
}
