import type { FastifyRequest } from 'fastify';
import { ShepherdError } from '../errors/shepherd-error.js';

/**
 * Refuses a browser request another site sent: `Sec-Fetch-Site` other than `same-origin`/`none`, or an
 * `Origin` that is not this server's own (scheme and Host). Clients that send neither (curl, scripts)
 * pass: only browsers carry the cookie on their own, and every current browser sends one of the two.
 */
export function assertSameOrigin(req: FastifyRequest): void {
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none')
    throw new ShepherdError('api_auth_0005', `Sec-Fetch-Site: ${site}`);
  const origin = req.headers.origin;
  if (origin === undefined) return;
  // The panel's pages are `Referrer-Policy: no-referrer`, under which a browser sends `Origin: null` for
  // its own form posts: then only the browser's own word (Sec-Fetch-Site, checked above) vouches for it.
  if (origin === 'null' && site === 'same-origin') return;
  const own = `${requestScheme(req)}://${req.headers.host ?? ''}`;
  if (origin.toLowerCase() !== own.toLowerCase())
    throw new ShepherdError('api_auth_0005', `Origin ${origin} is not ${own}`);
}

/** `https` when the socket is TLS or the proxy in front says the browser used https. */
export function requestScheme(req: FastifyRequest): 'http' | 'https' {
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    ?.trim();
  return req.protocol === 'https' || forwarded === 'https' ? 'https' : 'http';
}
