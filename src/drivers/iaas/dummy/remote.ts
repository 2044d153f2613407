import { Agent, request } from 'undici';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import { systemClock } from '../../../util/clock.js';
import { NDJSON, ndjsonLines } from '../../../util/ndjson.js';
import type { IaasDriver, Vm } from '../../types.js';
import { PACKED, type PresetGroup, unpackGroup } from './preset-group.js';
import { settlingVerbs } from './settling.js';
import type { SimulatorVerb } from './simulator-server.js';

type Response = Awaited<ReturnType<typeof request>>;
interface Answer<T> {
  result?: T;
  error?: { code: string; detail?: string; details?: Record<string, unknown>; retryAfterMs?: number };
}

/**
 * DummyIaasDriver talking to a shared simulator (`vmshepherd simulator`) instead of a cloud in this
 * process: several daemons then see one simulated account.
 */
export function remoteDummyDriver(endpoint: string, token: string | undefined): IaasDriver {
  const sim = new SimulatorClient(endpoint, token);
  const call = <T>(verb: SimulatorVerb, args: unknown[], signal?: AbortSignal) =>
    sim.call<T>(verb, args, signal);
  return {
    list: (preset, o) => call<Vm[]>('list', [preset], o?.signal),
    listAll: (o) => sim.listAll(o?.signal),
    listAllByPreset: (o) => sim.listAllByPreset(o?.signal),
    get: (id, o) => call<Vm | null>('get', [id], o?.signal),
    create: (spec, o) => call<Vm>('create', [spec, o.idempotencyKey], o.signal),
    terminate: (id, o) => call<void>('terminate', [id], o?.signal),
    capabilities: settlingVerbs(
      {
        get: (id, signal) => call<Vm | null>('get', [id], signal),
        stop: (id, signal) => call<void>('stop', [id], signal),
        start: (id, signal) => call<void>('start', [id], signal),
        reboot: (id, signal) => call<void>('reboot', [id], signal),
        rebuild: (id, spec, signal) => call<void>('rebuild', [id, spec], signal),
        resize: (id, spec, signal) => call<void>('resize', [id, spec], signal),
        confirmResize: (id, signal) => call<void>('confirmResize', [id], signal),
        setSecurityGroups: (id, spec, signal) => call<void>('setSecurityGroups', [id, spec], signal),
        setNetworks: (id, spec, signal) => call<void>('setNetworks', [id, spec], signal),
        setMetadata: (id, spec, signal) => call<void>('setMetadata', [id, spec], signal),
      },
      systemClock,
    ),
    // Every daemon on one simulator shares its account, and knows it by the simulator's address.
    lockAccount: `sim@${sim.base}`,
    close: () => sim.close(),
  };
}

/** The simulator's HTTP API: one call per verb, and the account's listings streamed. */
class SimulatorClient {
  readonly base: string;
  private readonly agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });

  constructor(
    endpoint: string,
    private readonly token: string | undefined,
  ) {
    this.base = endpoint.replace(/\/+$/, '');
  }

  async call<T>(verb: SimulatorVerb, args: unknown[], signal?: AbortSignal): Promise<T> {
    return answer<T>(verb, await this.send(verb, args, signal), signal);
  }

  async listAll(signal?: AbortSignal): Promise<Vm[]> {
    const vms: Vm[] = [];
    const res = await this.streamed('listAll', signal, (line) => vms.push(JSON.parse(line) as Vm));
    return res ? answer<Vm[]>('listAll', res, signal) : vms;
  }

  /** Each preset's line is kept as text and decoded when the preset takes it (see Listing). */
  async listAllByPreset(signal?: AbortSignal): Promise<Map<string, () => Vm[]>> {
    const groups = new Map<string, () => Vm[]>();
    const res = await this.streamed('listAllByPreset', signal, (line) => {
      const name = PRESET_OF.exec(line)?.[1];
      if (name === undefined) throw new Error('a line without its preset');
      const preset = JSON.parse(name) as string;
      groups.set(preset, () => decodeGroup(preset, line));
    });
    if (!res) return groups;
    const byPreset = await answer<Record<string, Vm[]>>('listAllByPreset', res, signal);
    return new Map(Object.entries(byPreset).map(([preset, vms]) => [preset, () => vms]));
  }

  close(): Promise<void> {
    return this.agent.close();
  }

  private async send(verb: SimulatorVerb, args: unknown[], signal?: AbortSignal, accept?: string) {
    try {
      return await request(`${this.base}/v1/${verb}`, {
        method: 'POST',
        dispatcher: this.agent,
        headers: {
          'content-type': 'application/json',
          authorization: `Bearer ${this.token ?? ''}`,
          ...(accept ? { accept } : {}),
        },
        body: JSON.stringify({ args }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw unreachable(verb, err, signal);
    }
  }

  /**
   * A streamed listing, line by line as it arrives: it never exists here as one text. A stream without
   * its end line (the connection dropped, the simulator died) is an error, never a shorter listing: VMs
   * missing from a listing would be created again. Undefined when the answer is not a stream (`res`, an
   * error, is then read as such).
   */
  private async streamed(
    verb: 'listAll' | 'listAllByPreset',
    signal: AbortSignal | undefined,
    take: (line: string) => void,
  ): Promise<Response | undefined> {
    const res = await this.send(
      verb,
      [],
      signal,
      verb === 'listAllByPreset' ? `${NDJSON}; ${PACKED}` : NDJSON,
    );
    if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith(NDJSON)) return res;
    let lines = 0;
    let end: number | undefined;
    try {
      for await (const line of ndjsonLines(res.body)) {
        if (end !== undefined) throw new Error('a line after the end line');
        if (line.startsWith(END_LINE)) end = endCount(line);
        else {
          lines++;
          take(line);
        }
      }
    } catch (err) {
      throw unreachable(verb, err, signal);
    }
    if (end !== lines) {
      const why = end === undefined ? 'without its end line' : `but its end line counts ${end}`;
      throw new ShepherdError('dummy_call_2003', `${verb}: the listing stopped after ${lines} lines ${why}`);
    }
    return undefined;
  }
}

/** The call's result, or its error. A 200 answer whose body cannot be read is an error, not `undefined`. */
async function answer<T>(verb: SimulatorVerb, res: Response, signal?: AbortSignal): Promise<T> {
  let body: Answer<T>;
  try {
    body = (await readJson(res.body)) as Answer<T>;
  } catch (err) {
    if (res.statusCode === 200) throw unreachable(verb, err, signal);
    body = {};
  }
  if (res.statusCode === 200) return body.result as T;
  const e = body.error ?? { code: 'dummy_call_2003', detail: `HTTP ${res.statusCode}` };
  throw new ShepherdError(e.code, e.detail, {
    ...(e.details ? { details: e.details } : {}),
    ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
  });
}

/** How the simulator's end line begins (see listingEnd), and the preset a grouped line is of. */
const END_LINE = '{"end":';
const PRESET_OF = /^\{"preset":("(?:[^"\\]|\\.)*"),"vms":/;

function endCount(line: string): number {
  const count = (JSON.parse(line) as { end?: { count?: unknown } }).end?.count;
  if (typeof count !== 'number') throw new Error(`not an end line: ${line.slice(0, 80)}`);
  return count;
}

/** One preset's VMs from its line of a grouped listing. */
function decodeGroup(preset: string, line: string): Vm[] {
  try {
    return unpackGroup(JSON.parse(line) as PresetGroup);
  } catch (err) {
    throw new ShepherdError(
      'dummy_call_2003',
      `listAllByPreset: the line of ${preset}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
}

/** A failed exchange with the simulator; the caller's abort reason when it aborted. */
function unreachable(verb: SimulatorVerb, err: unknown, signal?: AbortSignal): unknown {
  if (signal?.aborted) return signal.reason ?? err;
  return new ShepherdError('dummy_call_2003', `${verb}: ${(err as Error).message}`, { cause: err });
}

/**
 * The response's JSON, decoded chunk by chunk as it arrives: collecting all chunks before decoding, as
 * `body.json()` does, holds them and their concatenation outside the JS heap at once, and the allocator
 * keeps that memory in the process long after it is freed.
 */
async function readJson(body: AsyncIterable<Uint8Array>): Promise<unknown> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  text += decoder.decode();
  return JSON.parse(text);
}
