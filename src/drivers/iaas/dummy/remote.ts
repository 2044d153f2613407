import { Agent, request } from 'undici';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { SimulatorVerb } from '../../../simulator/simulator-server.js';
import type { IaasDriver, Vm } from '../../types.js';

/**
 * DummyIaasDriver talking to a shared simulator (`vmshepherd simulator`) instead of a cloud in this
 * process: several daemons then see one simulated account.
 */
export function remoteDummyDriver(endpoint: string, token: string | undefined): IaasDriver {
  const agent = new Agent({ connections: 64, keepAliveTimeout: 10_000 });
  const base = endpoint.replace(/\/+$/, '');
  const call = async <T>(verb: SimulatorVerb, args: unknown[], signal?: AbortSignal): Promise<T> => {
    let res: Awaited<ReturnType<typeof request>>;
    try {
      res = await request(`${base}/v1/${verb}`, {
        method: 'POST',
        dispatcher: agent,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token ?? ''}` },
        body: JSON.stringify({ args }),
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      throw new ShepherdError('dummy_call_2003', `${verb}: ${(err as Error).message}`, { cause: err });
    }
    const body = (await readJson(res.body).catch(() => ({}))) as {
      result?: T;
      error?: { code: string; detail?: string; details?: Record<string, unknown>; retryAfterMs?: number };
    };
    if (res.statusCode === 200) return body.result as T;
    const e = body.error ?? { code: 'dummy_call_2003', detail: `HTTP ${res.statusCode}` };
    throw new ShepherdError(e.code, e.detail, {
      ...(e.details ? { details: e.details } : {}),
      ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}),
    });
  };
  return {
    list: (preset, o) => call<Vm[]>('list', [preset], o?.signal),
    listAll: (o) => call<Vm[]>('listAll', [], o?.signal),
    get: (id, o) => call<Vm | null>('get', [id], o?.signal),
    create: (spec, o) => call<Vm>('create', [spec, o.idempotencyKey], o.signal),
    terminate: (id, o) => call<void>('terminate', [id], o?.signal),
    capabilities: {
      stop: (id, o) => call<void>('stop', [id], o?.signal),
      start: (id, o) => call<void>('start', [id], o?.signal),
      reboot: (id, o) => call<void>('reboot', [id], o?.signal),
      rebuild: (id, spec, o) => call<void>('rebuild', [id, spec], o?.signal),
      resize: (id, spec, o) => call<void>('resize', [id, spec], o?.signal),
    },
    close: () => agent.close(),
  };
}

/**
 * The response's JSON, decoded chunk by chunk as it arrives. A whole-account listing is large (about
 * 45 MB at 100,000 VMs, every cycle): collecting all chunks before decoding, as `body.json()` does,
 * holds them and their concatenation outside the JS heap at once, and the allocator keeps that memory
 * in the process long after it is freed. Here each chunk is released once decoded, and the text lives
 * in the JS heap, where the garbage collector returns it.
 */
async function readJson(body: AsyncIterable<Uint8Array>): Promise<unknown> {
  const decoder = new TextDecoder();
  let text = '';
  for await (const chunk of body) text += decoder.decode(chunk, { stream: true });
  text += decoder.decode();
  return JSON.parse(text);
}
