import { timingSafeEqual } from 'node:crypto';
import { Readable } from 'node:stream';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { asShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import { NDJSON, ndjsonChunks } from '../../../util/ndjson.js';
import type { Vm, VmSpec } from '../../types.js';
import { SimulatedCloud } from './cloud.js';
import type { DummyOptions } from './options.js';
import { PACKED, packGroup } from './preset-group.js';
import { StateFile } from './state-file.js';

/** The cloud verbs served, with how their JSON arguments map onto the SimulatedCloud. */
const VERBS = {
  list: (c, [preset]) => c.list(preset as string),
  listAll: (c) => c.listAll(),
  listAllByPreset: async (c) =>
    Object.fromEntries([...(await c.listAllByPreset())].map(([p, vms]) => [p, vms()])),
  get: (c, [id]) => c.get(id as string),
  create: (c, [spec, idem]) => c.create(spec as VmSpec, idem as string),
  terminate: (c, [id]) => c.terminate(id as string),
  stop: (c, [id]) => c.stop(id as string),
  start: (c, [id]) => c.start(id as string),
  reboot: (c, [id]) => c.reboot(id as string),
  rebuild: (c, [id, spec]) => c.rebuild(id as string, spec as VmSpec),
  resize: (c, [id, spec]) => c.resize(id as string, spec as VmSpec),
  confirmResize: (c, [id]) => c.confirmResize(id as string),
  setSecurityGroups: (c, [id, spec]) => c.setSecurityGroups(id as string, spec as VmSpec),
  setNetworks: (c, [id, spec]) => c.setNetworks(id as string, spec as VmSpec),
  setMetadata: (c, [id, spec]) => c.setMetadata(id as string, spec as VmSpec),
} satisfies Record<string, (cloud: SimulatedCloud, args: unknown[]) => Promise<unknown>>;

/** The last line of a streamed listing: how many lines (VMs, or presets when grouped) came before it. */
export const listingEnd = (count: number) => ({ end: { count } });

export type SimulatorVerb = keyof typeof VERBS;
export const SIMULATOR_VERBS = Object.keys(VERBS) as SimulatorVerb[];

export interface SimulatorServer {
  app: FastifyInstance;
  cloud: SimulatedCloud;
  /** Most VMs each preset had at once since the start or the last reset (checked after every create). */
  maxPerPreset: Map<string, number>;
  close(): Promise<void>;
}

/**
 * One simulated cloud served over HTTP, so several vmshepherd processes can share it (a demo of many
 * instances, the multi-instance tests, benchmarks with the cloud out of the daemon's process). Every
 * request needs the token: the API creates and deletes VMs.
 */
export async function createSimulatorServer(
  options: DummyOptions,
  clock: Clock,
  token: string,
  resolvePath: (p: string) => string = (p) => p,
): Promise<SimulatorServer> {
  const cloud = new SimulatedCloud(options, clock);
  let stateFile: StateFile | undefined;
  if (options.state_file) {
    stateFile = new StateFile(resolvePath(options.state_file), cloud);
    stateFile.load();
    cloud.onChange = () => stateFile?.changed();
  }
  const stats = new SimulatorStats(cloud);
  const app = Fastify({ logger: false, bodyLimit: 16 * 1024 * 1024 });
  requireToken(app, token);
  app.post<{ Params: { verb: string }; Body: { args?: unknown[] } }>('/v1/:verb', (req, reply) =>
    callVerb(cloud, stats, req, reply),
  );
  app.get('/v1/peek', async () => ({ vms: cloud.peek() }));
  app.get('/v1/stats', async () => stats.now());
  app.post('/v1/stats/reset', async () => stats.reset());
  return {
    app,
    cloud,
    maxPerPreset: stats.maxPerPreset,
    close: async () => {
      await app.close();
      await stateFile?.flush();
    },
  };
}

/**
 * What the simulator counts for tests and benchmarks: calls that change how many VMs a preset has, by
 * preset (a fault test tells from them whether a VM was deleted that no decision asked for), and the most
 * VMs each preset had at once.
 */
class SimulatorStats {
  readonly maxPerPreset = new Map<string, number>();
  private readonly creates = new Map<string, number>();
  private readonly terminates = new Map<string, number>();

  constructor(private readonly cloud: SimulatedCloud) {}

  created(preset: string): void {
    bump(this.creates, preset);
    this.maxPerPreset.set(
      preset,
      Math.max(this.maxPerPreset.get(preset) ?? 0, this.cloud.presetSize(preset)),
    );
  }

  terminated(preset: string): void {
    bump(this.terminates, preset);
  }

  now() {
    return {
      size: this.cloud.size(),
      maxPerPreset: Object.fromEntries(this.maxPerPreset),
      creates: Object.fromEntries(this.creates),
      terminates: Object.fromEntries(this.terminates),
      // Calls per verb since the start, answered or not: how often the cloud was asked to stop, reboot...
      // (exactly-once checks; not reset).
      calls: this.cloud.callCounts(),
    };
  }

  /** Starts a new watch: the maxima begin again from what each preset has now, the counters from zero. */
  reset() {
    const before = this.now();
    this.creates.clear();
    this.terminates.clear();
    for (const preset of this.maxPerPreset.keys())
      this.maxPerPreset.set(preset, this.cloud.presetSize(preset));
    return before;
  }
}

const bump = (m: Map<string, number>, preset: string) => m.set(preset, (m.get(preset) ?? 0) + 1);

/** Every request needs the token: the API creates and deletes VMs. */
function requireToken(app: FastifyInstance, token: string): void {
  const expected = Buffer.from(`Bearer ${token}`);
  app.addHook('onRequest', async (req, reply) => {
    const got = Buffer.from(req.headers.authorization ?? '');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) {
      return reply.code(401).send({ error: { code: 'dummy_call_2003', detail: 'missing or wrong token' } });
    }
  });
}

/** One call of the cloud's API (`POST /v1/:verb` with its arguments), answered as remote.ts reads it. */
async function callVerb(
  cloud: SimulatedCloud,
  stats: SimulatorStats,
  req: FastifyRequest<{ Params: { verb: string }; Body: { args?: unknown[] } }>,
  reply: FastifyReply,
) {
  const verb = req.params.verb as SimulatorVerb;
  const run = VERBS[verb] as ((c: SimulatedCloud, a: unknown[]) => Promise<unknown>) | undefined;
  if (!run) return reply.code(404).send({ error: { code: 'dummy_call_2003', detail: `no verb ${verb}` } });
  try {
    const args = req.body?.args ?? [];
    const terminating = verb === 'terminate' ? cloud.presetOf(args[0] as string) : undefined;
    const result = await run(cloud, args);
    if (terminating !== undefined) stats.terminated(terminating);
    if (req.headers.accept?.includes(NDJSON) && (verb === 'listAll' || verb === 'listAllByPreset'))
      return sendListing(verb, result, req.headers.accept, reply);
    if (verb === 'create') stats.created((args[0] as VmSpec).preset);
    return { result: result ?? null };
  } catch (err) {
    const e = asShepherdError(err, 'dummy_call_2001');
    return reply.code(500).send({
      error: {
        code: e.code,
        detail: e.detail ?? e.message,
        details: e.details,
        retryAfterMs: e.retryAfterMs,
      },
    });
  }
}

/**
 * A whole account, one VM (or one preset's VMs) per line, so the daemon decodes it as it arrives (see
 * remote.ts); the end line tells a complete listing from one cut short. A client that asks for packed
 * groups gets what a preset's VMs have alike once per line (preset-group.ts).
 */
function sendListing(verb: SimulatorVerb, result: unknown, accept: string, reply: FastifyReply) {
  const packed = accept.includes(PACKED);
  const lines =
    verb === 'listAll'
      ? (result as unknown[])
      : Object.entries(result as Record<string, Vm[]>).map(([preset, vms]) =>
          packed ? packGroup(preset, vms) : { preset, vms },
        );
  return reply.type(NDJSON).send(Readable.from(ndjsonChunks(lines, listingEnd(lines.length))));
}
