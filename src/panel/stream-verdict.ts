import type { Caller } from '../http/auth.js';

/** Why a panel stream ends: its caller is no longer the one it was opened for, or it lived long enough. */
export type StreamEnd = 'revoked' | 'role-changed' | 'max-life';

/**
 * Whether an open panel stream may send its next frame. `now` is the caller resolved again against the
 * current tokens (`undefined`: its token is no longer valid); a stream serves only the role it was opened
 * with, so any change of role ends it (the browser loads the page again and gets what its token may see
 * now). Pure: the stream does the resolving and the ending.
 */
export function streamVerdict(
  opened: Caller,
  now: Caller | undefined,
  openReads: boolean,
  ageMs: number,
  maxLifeMs: number,
): StreamEnd | null {
  if (now === undefined) return 'revoked';
  if (now.role === null && !openReads) return 'revoked';
  if (now.role !== opened.role) return 'role-changed';
  if (ageMs >= maxLifeMs) return 'max-life';
  return null;
}
