import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { OPERATE_TOKEN, PRESETS, READ_TOKEN, settings, tokensBlock } from '../helpers/api.js';
import { runCli, startCli } from '../helpers/cli.js';
import { eventually } from '../helpers/daemon.js';
import { freePort } from '../helpers/ports.js';
import { tempDir } from '../helpers/tmp.js';

let stop: (() => Promise<unknown>) | undefined;
afterEach(async () => {
  await stop?.();
  stop = undefined;
});

describe('the daemon serves its API, and the CLI drives verbs through it', () => {
  it('listens on a free port (logged), runs vm verbs as tasks and lists them', async () => {
    const dir = tempDir({
      'settings.yaml': settings(tokensBlock()),
      'presets/web.conf': PRESETS['web.conf']!,
    });
    const d = startCli(['-c', 'settings.yaml'], dir);
    stop = async () => {
      d.child.kill('SIGTERM');
      return d.exited;
    };
    const listening = await eventually(
      () => d.lines.find((l) => l.msg === 'HTTP API and panel listening'),
      (l) => l !== undefined,
      20_000,
    );
    const url = `http://127.0.0.1:${listening!.port}`;
    expect(listening!.port).toBeGreaterThan(0);
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const auth = { authorization: `Bearer ${READ_TOKEN}` };
    const vms = await eventually(
      async () =>
        (await (await fetch(`${url}/api/v1/presets/web/vms`, { headers: auth })).json()) as {
          id: string;
          state: string;
        }[],
      // The API serves before the presets are read: until then the preset is a 404 (an object, not a list).
      (v) => Array.isArray(v) && v.filter((x) => x.state === 'running').length === 3,
      20_000,
    );
    const vm = vms[0]!.id;
    const api = ['--url', url, '--token', OPERATE_TOKEN];

    const quiesce = await runCli(['vm', 'quiesce', 'web', vm, ...api, '--wait', '--output', 'json'], dir);
    expect(quiesce.stderr).toBe('');
    expect(quiesce.code).toBe(0);
    const task = JSON.parse(quiesce.stdout);
    expect(task).toMatchObject({ verb: 'quiesce', vm, preset: 'web', by: 'ops', state: 'done' });

    const illegal = await runCli(['vm', 'restore', 'web', vm, ...api], dir);
    expect(illegal.code).toBe(1);
    expect(illegal.stderr).toContain('error vm_verb_0001');
    expect(illegal.stderr).toContain('restore of a VM that is quiesced');

    const readOnly = await runCli(['vm', 'restart', 'web', vm, '--url', url], dir, {
      VMSHEPHERD_TOKEN: READ_TOKEN,
    });
    expect(readOnly.code).toBe(1);
    expect(readOnly.stderr).toContain('api_auth_0003');

    const restart = await runCli(['vm', 'restart', 'web', vm, ...api], dir);
    expect(restart.code).toBe(0);
    expect(restart.stdout).toMatch(/queued|running|done/);

    const tasks = await runCli(['tasks', '--url', url, '--preset', 'web'], dir, {
      VMSHEPHERD_TOKEN: READ_TOKEN,
    });
    expect(tasks.code).toBe(0);
    const lines = tasks.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('restart');
    expect(lines[1]).toContain(`quiesce  web/${vm}  by ops`);

    // A key asked again answers with the same task; one task shows its steps; only a queued one cancels.
    const keyed = [
      'vm',
      'quiesce',
      'web',
      vms[1]!.id,
      ...api,
      '--idempotency-key',
      'k-1',
      '--output',
      'json',
    ];
    const once = JSON.parse((await runCli(keyed, dir)).stdout);
    const again = JSON.parse((await runCli(keyed, dir)).stdout);
    expect(again.id).toBe(once.id);
    const show = await runCli(['tasks', task.id, '--url', url], dir, { VMSHEPHERD_TOKEN: READ_TOKEN });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/\n {2}\S+ {2}record +done +\S+ \(fence \d+\)/);
    const cancel = await runCli(['tasks', task.id, '--cancel', ...api], dir);
    expect(cancel.code).toBe(1);
    expect(cancel.stderr).toContain('api_task_0002');

    const unreachable = await runCli(['tasks', '--url', 'http://127.0.0.1:9'], dir);
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toContain('cli_api_2001');

    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    stop = undefined;
  });

  it('moves the server to the new address on SIGHUP, and stays put when the new port is taken', async () => {
    const [first, second] = [await freePort(), await freePort()];
    const http = (port: number) => `http: {listen_port: ${port}}`;
    const dir = tempDir({ 'settings.yaml': settings(http(first)), 'presets/db.conf': PRESETS['db.conf']! });
    const d = startCli(['-c', 'settings.yaml'], dir);
    stop = async () => {
      d.child.kill('SIGTERM');
      return d.exited;
    };
    const answers = (port: number) =>
      fetch(`http://127.0.0.1:${port}/healthz`).then(
        (r) => r.ok,
        () => false,
      );
    await eventually(() => answers(first), Boolean, 20_000);

    writeFileSync(join(dir, 'settings.yaml'), settings(http(second)));
    d.child.kill('SIGHUP');
    await eventually(() => answers(second), Boolean, 10_000);
    expect(await answers(first)).toBe(false);

    // A port someone else holds: the reload applies, the server stays where it answers, and says why.
    const squatter = createServer().listen(first, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      writeFileSync(join(dir, 'settings.yaml'), settings(http(first)));
      d.child.kill('SIGHUP');
      const kept = await eventually(
        () => d.lines.find((l) => String(l.msg).startsWith('HTTP server kept on its old address')),
        (l) => l !== undefined,
        10_000,
      );
      expect(kept!.code).toBe('api_server_2001');
      expect(await answers(second)).toBe(true);
    } finally {
      squatter.close();
    }
  });

  it('exits non-zero, closing its ZooKeeper session, when its HTTP port is taken at start', async () => {
    const port = await freePort();
    const squatter = createServer().listen(port, '127.0.0.1');
    await once(squatter, 'listening');
    try {
      const zk = `runtime: {driver: ZookeeperDriver, servers: '${inject('zkServers')}', working_path: /vmshepherd-test/taken-${process.pid}}`;
      const text = settings(`http: {listen_port: ${port}}`).replace('runtime: {driver: InMemoryDriver}', zk);
      const dir = tempDir({ 'settings.yaml': text, 'presets/db.conf': PRESETS['db.conf']! });
      const d = startCli(['-c', 'settings.yaml'], dir);
      stop = async () => {
        d.child.kill('SIGKILL');
        return d.exited;
      };
      // A live ZooKeeper session keeps the event loop busy: only a start that closes it lets the process end.
      const code = await Promise.race([
        d.exited,
        new Promise<string>((r) => setTimeout(() => r('running'), 10_000)),
      ]);
      expect(code).toBe(1);
    } finally {
      squatter.close();
    }
  }, 30_000);
});
