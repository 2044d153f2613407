import { readFileSync } from 'node:fs';
import { Agent, type Dispatcher, fetch } from 'undici';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import { responseError, transportError } from './errors.js';

export interface HttpOptions {
  timeoutMs: number;
  cacert?: string;
  insecure: boolean;
}

export interface HttpRequest {
  method: string;
  url: string;
  headers?: Record<string, string>;
  body?: unknown;
  signal?: AbortSignal;
  /** Short description for errors, e.g. `POST compute /servers`. */
  call: string;
  /** Keystone token requests: 401 is a credential failure. */
  auth?: boolean;
  /** Statuses that are answers, not failures (e.g. 404 for an idempotent delete). */
  accept?: readonly number[];
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  body: unknown;
}

/**
 * JSON over HTTP with a per-request timeout, a custom CA and `insecure` only when asked. Every failure
 * becomes a ShepherdError with a catalogue code; a caller's abort stays an abort.
 */
export class HttpClient {
  private readonly dispatcher: Dispatcher;
  /** Requests sent, by `call` prefix (method and service), for benchmarks. */
  readonly counts = new Map<string, number>();

  constructor(private readonly o: HttpOptions) {
    const ca = o.cacert ? readFileSync(o.cacert, 'utf8') : undefined;
    this.dispatcher = new Agent({
      connect: { ...(ca ? { ca } : {}), ...(o.insecure ? { rejectUnauthorized: false } : {}) },
      keepAliveTimeout: 10_000,
    });
  }

  async send(r: HttpRequest): Promise<HttpResponse> {
    const key = r.call.split(' ').slice(0, 2).join(' ');
    this.counts.set(key, (this.counts.get(key) ?? 0) + 1);
    const timeout = AbortSignal.timeout(this.o.timeoutMs);
    const signal = r.signal ? AbortSignal.any([r.signal, timeout]) : timeout;
    let res: Awaited<ReturnType<typeof fetch>>;
    let text: string;
    try {
      res = await fetch(r.url, {
        method: r.method,
        headers: {
          accept: 'application/json',
          ...(r.body !== undefined ? { 'content-type': 'application/json' } : {}),
          ...r.headers,
        },
        ...(r.body !== undefined ? { body: JSON.stringify(r.body) } : {}),
        signal,
        dispatcher: this.dispatcher,
      });
      text = await readBounded(res, r.call);
    } catch (err) {
      if (err instanceof ShepherdError) throw err;
      if (r.signal?.aborted) throw r.signal.reason ?? err;
      // The endpoint (scheme, host, port: never a token or query) says which service's certificate or
      // address failed, as the catalog gave it.
      throw transportError(err, `${r.call} at ${new URL(r.url).origin}`, timeout.aborted);
    }
    const body = parseBody(text);
    if (res.ok && typeof body === 'string')
      // A proxy's HTML page or a cut answer: never read as an empty one (an empty listing creates VMs).
      throw new ShepherdError(
        'openstack_answer_2001',
        `${r.call}: HTTP ${res.status} ${res.headers.get('content-type') ?? 'without a content type'}, ${text.length} characters that are not JSON`,
      );
    if (res.ok || r.accept?.includes(res.status)) return { status: res.status, headers: res.headers, body };
    throw responseError({
      status: res.status,
      body,
      retryAfter: res.headers.get('retry-after'),
      call: r.call,
      ...(r.auth ? { auth: true } : {}),
    });
  }

  async close(): Promise<void> {
    await this.dispatcher.close();
  }
}

/** The most of one answer read (a page of 1000 servers in detail is a few MiB). */
export const MAX_ANSWER_BYTES = 32 * 1024 * 1024;

/** The body as text, refused past MAX_ANSWER_BYTES (by its Content-Length, or as it arrives). */
async function readBounded(res: Awaited<ReturnType<typeof fetch>>, call: string): Promise<string> {
  const tooLarge = () =>
    new ShepherdError('openstack_answer_2002', `${call}: the answer is over ${MAX_ANSWER_BYTES} bytes`);
  if (Number(res.headers.get('content-length') ?? 0) > MAX_ANSWER_BYTES) {
    await res.body?.cancel();
    throw tooLarge();
  }
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body) {
    size += chunk.byteLength;
    // Leaving the loop cancels the stream: the rest is not downloaded.
    if (size > MAX_ANSWER_BYTES) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function parseBody(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function isCode(err: unknown, code: string): boolean {
  return err instanceof ShepherdError && err.code === code;
}
