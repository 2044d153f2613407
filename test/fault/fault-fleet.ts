import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  fenceViolations,
  fleetSettings,
  type Instance,
  type LogLine,
  runningByPreset,
  type Simulator,
  startInstance,
  startSimulator,
  stopChild,
  timeOf,
  waitFor,
  writePresets,
} from '../helpers/fleet.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { clockStepper } from './clock-stepper.js';

/** Presets of the fleet, each with `count` VMs that alternates between LOW and HIGH from one fault to the next. */
export const PRESETS = 12;
const LOW = 3;
const HIGH = 9;
/** update.max_surge: the most VMs a preset may have above its count. */
const SURGE = 1;
/** manage_expire: a lease's life, renewed every third of it. */
const TTL_S = 8;
/**
 * ZooKeeper's session_timeout, shorter than manage_expire as in the adversarial run that found a holder
 * acting on after its session was gone: the session, not manage_expire, bounds a ZooKeeper lease.
 */
export const ZK_SESSION_S = 4;
const INTERVAL_S = 1;
/** How long the fleet must take, after the fault heals, to have every preset at its count again. */
const CONVERGE_MS = 120_000;

/** A runtime store the suite owns: restarting it disturbs nobody else. */
export interface FaultStore {
  name: string;
  /** `host:port` the instances reach the store at. */
  address: string;
  /** The runtime block of the settings, reaching the store at `address`. */
  block(address: string): string;
  /** Kills the store and starts it again on the same data, `downMs` later. */
  restart(downMs: number): Promise<void>;
  destroy(): Promise<void>;
}

/** What one fault did, as the cloud and the logs show it. */
export interface FaultFigures {
  runtime: string;
  fault: string;
  /** Most VMs a preset had above count + max_surge (the count before or after the change, the higher). */
  overCeiling: number;
  /** Terminations beyond what the count change asked for: VMs deleted that no decision needed. */
  lost: number;
  /** Actions logged with a fencing token after a newer one was taken, and leases taken while held. */
  afterLeaseLoss: number;
  /** Instances that exited without being told to. */
  crashes: number;
  /** From the start of the fault to every preset at its new count (the other instance's work, or b's). */
  convergedMs: number;
  /** From the heal to b's next lease taken: it works again, not just lives. */
  rejoinedMs: number;
  creates: number;
  terminates: number;
}

export interface Fault {
  name: string;
  /** Starts the fault; resolves when it is in place. */
  apply(fleet: FaultFleet): Promise<void> | void;
  /** How long the fault lasts. */
  durationMs: number;
  /** Ends it. */
  heal(fleet: FaultFleet): Promise<void> | void;
}

/**
 * Two vmshepherd processes sharing a simulated cloud and one runtime store: `a` reaches the store
 * directly, `b` through a TCP proxy the suite partitions, and with a wall clock the suite can step.
 */
export class FaultFleet {
  readonly figures: FaultFigures[] = [];
  private count = LOW;
  /** When an instance (by label) was held still: a takeover of its leases meanwhile is no overlap. */
  private readonly frozen: [string, number, number][] = [];
  /** Every offset (ms) b's wall clock has had from true time. */
  private readonly offsets = new Set([0]);
  /** Instances that were stopped on purpose (their exit is not a crash). */
  private readonly expectedExits = new Set<Instance>();
  /** Every instance ever started, with the id its log lines are checked under. */
  private readonly all: { inst: Instance; label: string; killedAt?: number }[] = [];
  a!: Instance;
  b!: Instance;

  private constructor(
    readonly store: FaultStore,
    readonly sim: Simulator,
    readonly proxy: TcpProxy,
    readonly dir: string,
    private readonly clockFile: string,
  ) {}

  static async start(store: FaultStore): Promise<FaultFleet> {
    // Slow calls, one create at a time: a manage that scales by six VMs works for six seconds, longer than
    // a ZooKeeper session, so a holder cut off mid-manage is still working when its lease goes.
    const sim = await startSimulator('{latency: 1, boot_time: 0.3, seed: 9}');
    const proxy = await startTcpProxy(store.address);
    // Not tempDir(): that one is emptied after each test, and this fleet lives through them all.
    const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-fault-'));
    mkdirSync(join(dir, 'presets'));
    const clockFile = join(dir, 'clock-offset');
    writeFileSync(clockFile, '+0\n');
    const fleet = new FaultFleet(store, sim, proxy, dir, clockFile);
    fleet.writeCount(LOW);
    fleet.a = fleet.startNode('a', store.address);
    fleet.b = fleet.startNode('b', proxy.address, clockStepper(clockFile).env);
    await fleet.converged(LOW);
    return fleet;
  }

  private writeCount(count: number): void {
    this.count = count;
    writePresets(
      this.dir,
      PRESETS,
      count,
      `manage_interval: ${INTERVAL_S}\nmanage_expire: ${TTL_S}\ncreate_concurrency: 1\nupdate: {max_surge: ${SURGE}}\n`,
    );
  }

  private startNode(id: string, storeAddress: string, env: NodeJS.ProcessEnv = {}): Instance {
    const settings = fleetSettings(INTERVAL_S, this.store.block(storeAddress), this.sim);
    const inst = startInstance(this.dir, id, settings, env);
    this.all.push({ inst, label: `${id}#${this.all.filter((x) => x.inst.id === id).length + 1}` });
    return inst;
  }

  /** kill -9 of `b` (its leases stay taken in the store until they expire), then a new `b`. */
  async killB(): Promise<void> {
    const entry = this.all.find((x) => x.inst === this.b)!;
    this.expectedExits.add(this.b);
    entry.killedAt = Date.now();
    await stopChild(this.b.child, 'SIGKILL');
  }

  restartB(): void {
    this.b = this.startNode('b', this.proxy.address, clockStepper(this.clockFile).env);
  }

  /** Steps `b`'s wall clock by `seconds` from true time (0: back to true time). */
  stepClock(seconds: number): void {
    this.offsets.add(seconds * 1000);
    clockStepper(this.clockFile).step(seconds);
  }

  private async converged(count: number): Promise<number> {
    return waitFor(
      `every preset at ${count} running VMs`,
      async () => {
        const running = await runningByPreset(this.sim);
        let ok = true;
        for (let i = 0; i < PRESETS; i++)
          if (running.get(`p${String(i).padStart(3, '0')}`) !== count) ok = false;
        return ok && (await this.sim.peek()).length === PRESETS * count;
      },
      CONVERGE_MS,
      200,
    );
  }

  /** `b`'s first action (a VM created or terminated) since `since`, if any yet. */
  private bActed(since: number): boolean {
    return this.b.lines.some(
      (l) => / VM$/.test(l.msg) && (l.receivedAt as number) >= since && typeof l.fence === 'number',
    );
  }

  /**
   * One fault: the count flips (so there is work under the leases), the fault starts as soon as `b` is
   * acting on the change (mid-manage, holding a lease), lasts its duration and heals; then every preset
   * must reach its new count, and the figures are taken and checked.
   */
  async run(runtime: string, fault: Fault): Promise<FaultFigures> {
    await this.converged(this.count);
    await new Promise((r) => setTimeout(r, 1_500)); // late lines of the last fault are counted there, not here
    await this.sim.resetStats();
    const from = this.count;
    const to = from === LOW ? HIGH : LOW;
    const mark = Date.now();
    const linesFrom = new Map(this.all.map((x) => [x.inst, x.inst.lines.length]));
    // As in the adversarial run that found the ZooKeeper bug: a is held still while the count changes, so
    // b takes the work; the fault comes while b is acting under its leases, and a goes on at once.
    this.a.child.kill('SIGSTOP');
    const frozenAt = Date.now();
    try {
      this.writeCount(to);
      await waitFor('b acting on the new count', async () => this.bActed(mark), 30_000, 5);
      await fault.apply(this);
    } finally {
      this.a.child.kill('SIGCONT');
      this.frozen.push([this.labelOf(this.a), frozenAt, Date.now()]);
    }
    const appliedAt = performance.now();
    const convergence = this.converged(to);
    let convergedAt = 0;
    void convergence.then(
      () => {
        convergedAt = performance.now();
      },
      () => {},
    );
    await new Promise((r) => setTimeout(r, fault.durationMs));
    await fault.heal(this);
    const healedAt = Date.now();
    await convergence;
    const rejoinedMs = await waitFor(
      'b taking a lease again after the heal',
      async () => this.b.lines.some((l) => l.msg === 'lease taken' && (l.receivedAt as number) >= healedAt),
      60_000,
      20,
    );
    await new Promise((r) => setTimeout(r, 2_000)); // an action after the count is reached shows now
    const stats = await this.sim.resetStats();
    const ceiling = Math.max(from, to) + SURGE;
    const sum = (m: Record<string, number>) => Object.values(m).reduce((a, b) => a + b, 0);
    const figures: FaultFigures = {
      runtime,
      fault: fault.name,
      overCeiling: Math.max(0, ...Object.values(stats.maxPerPreset).map((n) => n - ceiling)),
      lost: Object.values(stats.terminates).reduce((a, n) => a + Math.max(0, n - Math.max(0, from - to)), 0),
      afterLeaseLoss: this.violations(linesFrom).length,
      crashes: this.crashes(),
      convergedMs: Math.round(convergedAt - appliedAt),
      rejoinedMs: Math.round(rejoinedMs),
      creates: sum(stats.creates),
      terminates: sum(stats.terminates),
    };
    this.figures.push(figures);
    report(figures);
    const violations = this.violations(linesFrom);
    for (const v of violations.slice(0, 5)) console.log('FENCE', runtime, fault.name, v);
    if (violations[0]) this.printTrace(violations[0].preset, linesFrom);
    if (figures.lost > 0) this.printTerminations(linesFrom);
    expect({ ...figures, convergedMs: 0, rejoinedMs: 0, creates: 0, terminates: 0 }).toEqual({
      runtime,
      fault: fault.name,
      overCeiling: 0,
      lost: 0,
      afterLeaseLoss: 0,
      crashes: 0,
      convergedMs: 0,
      rejoinedMs: 0,
      creates: 0,
      terminates: 0,
    });
    return figures;
  }

  /**
   * Fence violations in the lines logged since `linesFrom`. Lines are ordered by the time each process
   * logged them (arrival through the pipes can be late by a busy moment); b's times are taken back to the
   * true clock by whichever of the offsets it ever had puts them nearest their arrival.
   */
  private violations(linesFrom: Map<Instance, number>) {
    const killedAt = new Map<string, number>();
    const trueTime = (l: LogLine) => {
      const t = timeOf(l);
      const off = [...this.offsets].reduce((best, o) =>
        Math.abs(t - o - (l.receivedAt as number)) < Math.abs(t - best - (l.receivedAt as number)) ? o : best,
      );
      return t - off;
    };
    const views: Instance[] = this.all.map(({ inst, label, killedAt: k }) => {
      if (k !== undefined) killedAt.set(label, k);
      const lines = inst.lines
        .slice(linesFrom.get(inst) ?? 0)
        .map((l) => ({ ...l, instance: label, time: trueTime(l) }) as LogLine);
      return { ...inst, id: label, lines };
    });
    const frozen = new Map<string, [number, number][]>();
    for (const [label, from, to] of this.frozen)
      frozen.set(label, [...(frozen.get(label) ?? []), [from, to]]);
    return fenceViolations(views, killedAt, frozen);
  }

  /** What every instance logged for one preset during the fault, to show how a violation came about. */
  private printTrace(preset: string, linesFrom: Map<Instance, number>): void {
    const lines = this.all.flatMap(({ inst, label }) =>
      inst.lines
        .slice(linesFrom.get(inst) ?? 0)
        .filter((l) => l.preset === preset)
        .map((l) => ({ label, l })),
    );
    lines.sort((x, y) => timeOf(x.l) - timeOf(y.l));
    for (const { label, l } of lines)
      console.log(
        'TRACE',
        preset,
        new Date(timeOf(l)).toISOString(),
        new Date(l.receivedAt as number).toISOString(),
        label,
        l.msg,
        l.fence ?? '',
        l.takenOver ?? '',
        l.result ?? '',
        l.code ?? '',
        l.why ?? '',
      );
  }

  /** The terminations of the fault, to show why VMs went when more went than the count change asked. */
  private printTerminations(linesFrom: Map<Instance, number>): void {
    for (const { inst, label } of this.all)
      for (const l of inst.lines.slice(linesFrom.get(inst) ?? 0))
        if (/terminat|created VM/i.test(l.msg) || l.level === 50 || l.level === 40)
          console.log('TERMINATION', label, JSON.stringify(l).slice(0, 400));
  }

  private labelOf(inst: Instance): string {
    return this.all.find((x) => x.inst === inst)?.label ?? inst.id;
  }

  private crashes(): number {
    return this.all
      .filter(({ inst }) => inst.child.exitCode !== null || inst.child.signalCode !== null)
      .filter(({ inst }) => !this.expectedExits.has(inst)).length;
  }

  async stop(): Promise<void> {
    for (const { inst } of this.all) {
      this.expectedExits.add(inst);
      await stopChild(inst.child, 'SIGKILL');
    }
    await this.proxy.close();
    await this.sim.stop();
    await this.store.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Prints one row and appends it to the file CI prints the table from (VMSHEPHERD_FAULT_FIGURES). */
function report(f: FaultFigures): void {
  console.log(`FAULT ${JSON.stringify(f)}`);
  const file = process.env.VMSHEPHERD_FAULT_FIGURES;
  if (file) appendFileSync(file, `${JSON.stringify(f)}\n`);
}

const seconds = (ms: number) => `${ms / 1000} s`;

/** The faults every runtime goes through, in order. */
export function faults(): Fault[] {
  const partitions = [5_000, 30_000, 90_000].flatMap((ms): Fault[] => [
    {
      name: `partition one-sided ${seconds(ms)} (b's requests reach the store, its replies do not)`,
      apply: (f) => f.proxy.pause('replies'),
      durationMs: ms,
      heal: (f) => f.proxy.resume(),
    },
    {
      name: `partition both-sided ${seconds(ms)}`,
      apply: (f) => f.proxy.pause('both'),
      durationMs: ms,
      heal: (f) => f.proxy.resume(),
    },
  ]);
  return [
    ...partitions,
    {
      name: 'store restart (killed, 5 s down)',
      apply: (f) => f.store.restart(5_000),
      durationMs: 0,
      heal: () => {},
    },
    {
      name: 'kill -9 of b while it acts, restarted 5 s later',
      apply: (f) => f.killB(),
      durationMs: 5_000,
      heal: (f) => f.restartB(),
    },
    {
      name: "b's wall clock stepped back 1 h for 20 s",
      apply: (f) => f.stepClock(-3600),
      durationMs: 20_000,
      heal: (f) => f.stepClock(0),
    },
    {
      name: "b's wall clock stepped forward 1 h for 20 s",
      apply: (f) => f.stepClock(3600),
      durationMs: 20_000,
      heal: (f) => f.stepClock(0),
    },
  ];
}

/**
 * Declares the suite for one store: one fleet goes through every fault in turn (a file per store, so the
 * stores run side by side).
 */
export function faultSuite(runtime: string, store: () => Promise<FaultStore>): void {
  let fleet: FaultFleet | undefined;
  beforeAll(async () => {
    fleet = await FaultFleet.start(await store());
  }, 180_000);
  afterAll(() => fleet?.stop());
  describe.sequential(`${runtime}: two instances under faults`, () => {
    for (const fault of faults())
      it(fault.name, async () => void (await fleet!.run(runtime, fault)), 360_000);
  });
}
