import { type ChildProcess, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { META_PRESET, type Vm } from '../../src/drivers/types.js';
import { BIN, startCli } from './cli.js';

export type LogLine = Record<string, unknown> & {
  time: string | number;
  msg: string;
  instance?: string;
  preset?: string;
};

/** Epoch ms of a log line (the daemon logs ISO 8601 times). */
export const timeOf = (l: LogLine): number => (typeof l.time === 'number' ? l.time : Date.parse(l.time));

export interface SimulatorStats {
  size: number;
  /** Most VMs each preset had at once since the last reset. */
  maxPerPreset: Record<string, number>;
  /** Create and terminate calls by preset since the last reset. */
  creates: Record<string, number>;
  terminates: Record<string, number>;
  /** Calls per verb since the simulator started (not reset). */
  calls: Record<string, number>;
}

export interface Simulator {
  url: string;
  token: string;
  child: ChildProcess;
  peek(): Promise<Vm[]>;
  stats(): Promise<SimulatorStats>;
  /** The stats so far, and a new watch from now. */
  resetStats(): Promise<SimulatorStats>;
  stop(): Promise<void>;
}

/** `vmshepherd simulator` on a free port, as a separate process shared by the daemons of a test. */
export async function startSimulator(options: string): Promise<Simulator> {
  const token = `t-${Math.random().toString(36).slice(2)}`;
  const child = spawn(
    process.execPath,
    [BIN, 'simulator', '--port', '0', '--token', token, '--options', options],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`simulator did not start: ${out}`)), 30_000);
    const onData = (d: Buffer) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`simulator exited (${code}): ${out}`)));
  });
  const get = async <T>(path: string, method = 'GET'): Promise<T> => {
    const res = await fetch(`${url}${path}`, { method, headers: { authorization: `Bearer ${token}` } });
    if (!res.ok) throw new Error(`simulator ${path}: HTTP ${res.status}`);
    return (await res.json()) as T;
  };
  return {
    url,
    token,
    child,
    peek: async () => (await get<{ vms: Vm[] }>('/v1/peek')).vms,
    stats: () => get('/v1/stats'),
    resetStats: () => get('/v1/stats/reset', 'POST'),
    stop: () => stopChild(child, 'SIGTERM'),
  };
}

export function stopChild(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill(signal);
  });
}

export interface Instance {
  id: string;
  child: ChildProcess;
  lines: LogLine[];
}

/** A vmshepherd process with its own settings file (instance_id) over the shared presets directory. */
export function startInstance(
  dir: string,
  id: string,
  settings: string,
  env: NodeJS.ProcessEnv = {},
): Instance {
  // Each process serves its API on a free port: three on the default 8888 would clash.
  const http = /^http:/m.test(settings) ? '' : 'http: {listen_port: 0}\n';
  writeFileSync(join(dir, `settings-${id}.yaml`), `instance_id: ${id}\n${http}${settings}`);
  const { child, lines } = startCli(['-c', `settings-${id}.yaml`, '-l', 'debug'], dir, env);
  return { id, child, lines: lines as LogLine[] };
}

export function writePresets(dir: string, n: number, count: number, extra = ''): string[] {
  const names: string[] = [];
  for (let i = 0; i < n; i++) {
    const name = `p${String(i).padStart(3, '0')}`;
    names.push(name);
    writeFileSync(
      join(dir, 'presets', `${name}.conf`),
      `name: ${name}\ncount: ${count}\nimage: img-1\nflavor: m1.small\n${extra}`,
    );
  }
  return names;
}

/** VMs running per preset, from the simulator's view (no latency, no faults). */
export async function runningByPreset(sim: Simulator): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const vm of await sim.peek()) {
    const preset = vm.metadata[META_PRESET];
    if (preset && vm.state === 'running') out.set(preset, (out.get(preset) ?? 0) + 1);
  }
  return out;
}

/** Polls `ok` every `everyMs` until it holds; throws naming `what` after `timeoutMs`. */
export async function waitFor(
  what: string,
  ok: () => Promise<boolean>,
  timeoutMs: number,
  everyMs = 250,
): Promise<number> {
  const start = performance.now(); // monotonic: a step of the wall clock is not time waited
  while (!(await ok())) {
    if (performance.now() - start > timeoutMs) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return performance.now() - start;
}

export interface FenceViolation {
  preset: string;
  problem: string;
}

/**
 * Reads every instance's log and finds moments when a preset was managed by two instances at once:
 * an action (created, terminated, ... VM) logged with a fencing token after a lease with a higher token
 * was taken for that preset, or a lease taken by another instance while a holder had neither released it
 * nor logged it lost (unless that was a takeover of an expired lease, logged as such).
 */
export function fenceViolations(
  instances: Instance[],
  killedAt = new Map<string, number>(),
  /** Times (epoch ms) an instance was frozen (SIGSTOP): a lease taken over meanwhile was free to take. */
  frozen = new Map<string, [number, number][]>(),
): FenceViolation[] {
  const byPreset = new Map<string, LogLine[]>();
  for (const inst of instances)
    for (const line of inst.lines) {
      if (typeof line.preset !== 'string' || typeof line.fence !== 'number') continue;
      const list = byPreset.get(line.preset) ?? [];
      list.push(line);
      byPreset.set(line.preset, list);
    }
  const violations: FenceViolation[] = [];
  for (const [preset, lines] of byPreset) {
    // Same millisecond: tokens only grow, so a lower fence's lines came first (a release is logged before
    // the store frees the lease, so it precedes the next take); within one fence, take, actions, release.
    const ends = (l: LogLine) => l.msg === 'lease released' || l.msg === 'lease lost';
    const rank = (l: LogLine) => (l.msg === 'lease taken' ? 0 : ends(l) ? 2 : 1);
    lines.sort(
      (x, y) => timeOf(x) - timeOf(y) || (x.fence as number) - (y.fence as number) || rank(x) - rank(y),
    );
    let highest = 0;
    const open = new Map<number, LogLine>();
    for (const line of lines) {
      const fence = line.fence as number;
      if (line.msg === 'lease taken') {
        for (const [f, holder] of open) {
          // A killed holder releases nothing: ZooKeeper frees its leases with its session, unseen in the log.
          const died = killedAt.get(String(holder.instance));
          const at = timeOf(line);
          // Frozen when the lease was taken over: it learns of the loss once it runs again, and logs it
          // then (a second of grace), before any action: an action after that is checked below.
          const wasFrozen = (frozen.get(String(holder.instance)) ?? []).some(
            ([from, to]) => timeOf(holder) <= from && from <= at && at <= to + 1000,
          );
          const holderDead = (died !== undefined && died <= at) || wasFrozen;
          if (holder.instance !== line.instance && line.takenOver !== true && !holderDead)
            violations.push({
              preset,
              problem: `${line.instance} took fence ${fence} while ${holder.instance} held ${f}`,
            });
        }
        open.clear();
        open.set(fence, line);
        highest = Math.max(highest, fence);
      } else if (ends(line)) {
        // Released, or known lost (store unreachable, session expired): the holder stopped acting then.
        open.delete(fence);
      } else if (/ VM$/.test(line.msg) && fence < highest) {
        violations.push({
          preset,
          problem: `${line.instance} '${line.msg}' with fence ${fence} after fence ${highest} was taken`,
        });
      }
    }
  }
  return violations;
}

/** Manages (result `managed`) per instance, from the debug `manage` lines. */
export function managesPerInstance(instances: Instance[], since = 0): Record<string, number> {
  const out: Record<string, number> = {};
  for (const inst of instances)
    out[inst.id] = inst.lines.filter(
      (l) => l.msg === 'manage' && l.result === 'managed' && timeOf(l) >= since,
    ).length;
  return out;
}

/** The settings every instance of a fleet test shares: one runtime store, one simulator, the presets dir. */
export function fleetSettings(
  workerInterval: number,
  runtimeBlock: string,
  sim: { url: string; token: string },
): string {
  return [
    `worker_interval: ${workerInterval}`,
    'runtime:',
    runtimeBlock,
    'presets:',
    '  driver: DirectoryDriver',
    '  path: presets',
    'defaults:',
    '  iaas:',
    '    driver: DummyIaasDriver',
    `    endpoint: ${sim.url}`,
    `    token: ${sim.token}`,
    '  healthcheck:',
    '    driver: DummyHealthcheck',
    '',
  ].join('\n');
}
