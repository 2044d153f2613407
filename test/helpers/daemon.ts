import { join } from 'node:path';
import { Writable } from 'node:stream';
import { Daemon } from '../../src/daemon/daemon.js';
import type { Task } from '../../src/daemon/tasks.js';
import { simulatedClouds } from '../../src/drivers/iaas/dummy/driver.js';
import type { Vm } from '../../src/drivers/types.js';
import { META_PRESET } from '../../src/drivers/types.js';
import type { Clock } from '../../src/util/clock.js';
import { tempDir } from './tmp.js';

export interface TestDaemon {
  daemon: Daemon;
  dir: string;
  logs: Record<string, unknown>[];
}

/** A daemon over a temporary directory holding settings.yaml and presets/; log lines are collected. */
export async function testDaemon(settings: string, presets: Record<string, string>): Promise<TestDaemon> {
  const files: Record<string, string> = { 'settings.yaml': settings };
  for (const [name, text] of Object.entries(presets)) files[`presets/${name}`] = text;
  const dir = tempDir(files);
  return daemonIn(dir);
}

export async function daemonIn(
  dir: string,
  file = 'settings.yaml',
  options: { clock?: Clock } = {},
): Promise<TestDaemon> {
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line));
      done();
    },
  });
  const daemon = await Daemon.create({
    configFile: join(dir, file),
    logDestination: sink,
    pretty: false,
    ...options,
  });
  return { daemon, dir, logs };
}

/** Every VM of the simulated clouds of this process, by preset, seen without latency or faults. */
export function cloudVms(): Map<string, Vm[]> {
  const byPreset = new Map<string, Vm[]>();
  for (const cloud of simulatedClouds()) {
    for (const vm of cloud.peek()) {
      const preset = vm.metadata[META_PRESET] ?? '';
      byPreset.set(preset, [...(byPreset.get(preset) ?? []), vm]);
    }
  }
  return byPreset;
}

export async function eventually<T>(
  fn: () => T | Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  stepMs = 50,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > end)
      throw new Error(
        `condition not met within ${timeoutMs} ms; last value: ${JSON.stringify(last).slice(0, 500)}`,
      );
    await new Promise((r) => setTimeout(r, stepMs));
    last = await fn();
  }
  return last;
}

export const running = (vms: Vm[] | undefined) => (vms ?? []).filter((v) => v.state === 'running').length;

/** A probe for `eventually`: runs one cycle, then reads. */
export function afterCycle<T>(daemon: Daemon, read: () => T | Promise<T>): () => Promise<T> {
  return async () => {
    await daemon.runOnce();
    return read();
  };
}

/** Runs cycles until the task ended (done, failed or cancelled), then returns it. */
export function taskEnded(daemon: Daemon, id: string, timeoutMs = 10_000): Promise<Task> {
  return eventually(
    afterCycle(daemon, () => daemon.getTask(id)),
    (t) => t.state !== 'queued' && t.state !== 'running',
    timeoutMs,
  );
}
