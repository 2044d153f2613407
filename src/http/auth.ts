import { createHash, timingSafeEqual } from 'node:crypto';
import type { ShepherdConfig } from '../config/load-config.js';
import { ShepherdError } from '../errors/shepherd-error.js';

export type Role = 'read' | 'operate';

/** Who is calling: the token's name and role, or anonymous. */
export interface Caller {
  name: string;
  role: Role | null;
}

export const ANONYMOUS: Caller = { name: 'anonymous', role: null };
/** The panel keeps the token in this cookie (HttpOnly, SameSite=Strict). */
export const TOKEN_COOKIE = 'vmshepherd_token';

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * Resolves a bearer token (header, or the panel's cookie) against the configured tokens, which are kept
 * only as SHA-256 hashes and compared in constant time. A token that is sent but unknown is refused
 * even where reads are open, so a typo never silently downgrades a caller.
 */
export function callerOf(http: ShepherdConfig['http'], bearer: string | undefined): Caller {
  if (bearer === undefined || bearer === '') return ANONYMOUS;
  const hash = sha256(bearer);
  for (const t of http.tokens) {
    if (timingSafeEqual(hash, Buffer.from(t.sha256, 'hex'))) return { name: t.name, role: t.role };
  }
  throw new ShepherdError('api_auth_0002');
}

/** The token from `Authorization: Bearer ...`, else from the panel's cookie. */
export function bearerOf(authorization: string | undefined, cookie: string | undefined): string | undefined {
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (m) return m[1];
  for (const part of (cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === TOKEN_COOKIE) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

/** Reads: open when no token is configured (as in the original) or when `open_reads`; else any token. */
export function assertCanRead(http: ShepherdConfig['http'], caller: Caller): void {
  if (caller.role !== null || http.openReads) return;
  throw new ShepherdError('api_auth_0001');
}

/** Every mutation needs an operate token; without any configured token, actions are off and say how to fix. */
export function assertCanOperate(http: ShepherdConfig['http'], caller: Caller): void {
  if (caller.role === 'operate') return;
  if (http.tokens.length === 0) throw new ShepherdError('api_auth_0004');
  if (caller.role === null) throw new ShepherdError('api_auth_0001');
  throw new ShepherdError('api_auth_0003');
}

export const canOperate = (caller: Caller) => caller.role === 'operate';
