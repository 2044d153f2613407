import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';

export type Encoding = 'br' | 'gzip' | 'identity';

/**
 * Lists and presets: a browser or client may keep them but asks again each time (with If-None-Match);
 * private because what a token may read is not for shared caches.
 */
const PRIVATE_REVALIDATE = 'private, no-cache';

/** Below this size a compressed body saves less than its headers and the CPU cost. */
const COMPRESS_MIN_BYTES = 1024;

const gzipAsync = promisify(gzip);
const brotliAsync = promisify(brotliCompress);

/**
 * A response body rendered once and shared by the requests of a short window (see `StateReader.memo`):
 * its bytes, a strong ETag per content coding (a hash of the bytes, so an unchanged list keeps its tag
 * across windows), and each compressed form, made on the first request that asks for it and then kept
 * with the body instead of being compressed again per request.
 */
export class Representation {
  readonly bytes: Buffer;
  private readonly hash: string;
  private readonly encoded = new Map<Exclude<Encoding, 'identity'>, Promise<Buffer>>();

  /** `secret`: it holds rendered userdata (an operator's view of a preset), which no cache may keep. */
  constructor(
    body: string | Buffer,
    readonly contentType: string,
    readonly secret = false,
  ) {
    this.bytes = typeof body === 'string' ? Buffer.from(body) : body;
    this.hash = createHash('sha256').update(this.bytes).digest('base64url').slice(0, 22);
  }

  /** Strong validators differ per content coding (RFC 9110 8.8.3): the coded forms are other bytes. */
  etag(encoding: Encoding): string {
    return encoding === 'identity' ? `"${this.hash}"` : `"${this.hash}-${encoding}"`;
  }

  /** The coding to send for an Accept-Encoding header: identity for small bodies. */
  encodingFor(acceptEncoding: string | undefined): Encoding {
    if (this.bytes.length < COMPRESS_MIN_BYTES) return 'identity';
    return negotiateEncoding(acceptEncoding);
  }

  body(encoding: Encoding): Promise<Buffer> {
    if (encoding === 'identity') return Promise.resolve(this.bytes);
    let body = this.encoded.get(encoding);
    if (!body) {
      body =
        encoding === 'gzip'
          ? gzipAsync(this.bytes, { level: 6 })
          : // Quality 5: most of brotli's gain over gzip at a small part of the cost of its default, 11.
            brotliAsync(this.bytes, {
              params: {
                [constants.BROTLI_PARAM_QUALITY]: 5,
                [constants.BROTLI_PARAM_SIZE_HINT]: this.bytes.length,
              },
            });
      this.encoded.set(encoding, body);
    }
    return body;
  }
}

/** The preferred coding the client accepts (`br`, then `gzip`), honouring `q=0`; else identity. */
export function negotiateEncoding(acceptEncoding: string | undefined): Encoding {
  if (!acceptEncoding) return 'identity';
  const q = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const qParam = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const value = qParam ? Number(qParam.slice(2)) : 1;
    q.set(name, Number.isFinite(value) ? value : 0);
  }
  const accepts = (name: string) => (q.get(name) ?? q.get('*') ?? 0) > 0;
  if (accepts('br')) return 'br';
  if (accepts('gzip')) return 'gzip';
  return 'identity';
}

/** If-None-Match holds `*` or the tag (weak comparison, as RFC 9110 13.1.2 asks for this header). */
export function etagMatches(ifNoneMatch: string | undefined, etag: string): boolean {
  if (!ifNoneMatch) return false;
  if (ifNoneMatch.trim() === '*') return true;
  return ifNoneMatch.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}

/**
 * Sends a representation: 304 when the client holds the same bytes (If-None-Match), else the body in
 * the best coding the client accepts. A browser may keep it and revalidate, unless it is secret.
 */
export async function sendRepresentation(
  req: FastifyRequest,
  reply: FastifyReply,
  rep: Representation,
  status = 200,
): Promise<FastifyReply> {
  const encoding = rep.encodingFor(req.headers['accept-encoding']);
  const etag = rep.etag(encoding);
  reply
    .header('etag', etag)
    .header('vary', 'Accept-Encoding')
    .header('cache-control', rep.secret ? 'no-store' : PRIVATE_REVALIDATE);
  if (status === 200 && etagMatches(req.headers['if-none-match'], etag)) return reply.code(304).send();
  if (encoding !== 'identity') reply.header('content-encoding', encoding);
  return reply
    .code(status)
    .header('content-type', rep.contentType)
    .send(await rep.body(encoding));
}
