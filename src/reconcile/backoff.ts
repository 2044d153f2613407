import type { ShepherdError } from '../errors/shepherd-error.js';
import type { BackoffPolicy } from '../presets/preset.js';

/** One backoff window in force, kept in the preset's runtime state. */
export interface BackoffEntry {
  /** Consecutive failed attempts of this kind. */
  failures: number;
  /** Epoch ms until which creation of this kind waits. */
  until: number;
  code: string;
  reason: string;
}

/**
 * Keyed by what failed: `class:api|internal|primitive` for ordinary failures (exponential backoff with
 * jitter), `quota:<flavor>` and `capacity:<flavor>` for a cloud without room (a fixed window per flavor).
 */
export type BackoffState = Readonly<Record<string, BackoffEntry>>;

export interface CreateBlock extends BackoffEntry {
  key: string;
}

/** The window that currently stops creation for this flavor, if any (the one that ends last). */
export function createBlock(
  state: BackoffState,
  flavor: string | undefined,
  now: number,
): CreateBlock | null {
  let block: CreateBlock | null = null;
  for (const [key, entry] of Object.entries(state)) {
    const applies =
      key.startsWith('class:') || key === `quota:${flavor ?? ''}` || key === `capacity:${flavor ?? ''}`;
    if (applies && entry.until > now && (!block || entry.until > block.until)) block = { key, ...entry };
  }
  return block;
}

/**
 * The backoff state after a manage's creates: when no create succeeded, each failed kind waits longer
 * (doubling from `initial` up to `max`, times a jitter of 0.5–1.5 so presets do not retry in step); a quota
 * or capacity error stops that flavor for `quota_window`; a kind with a success and no failure is forgotten. `random` is injected so the
 * rule stays a pure function.
 */
export function afterCreates(
  state: BackoffState,
  outcome: { created: number; failed: readonly ShepherdError[] },
  flavor: string | undefined,
  policy: BackoffPolicy,
  now: number,
  random: () => number,
): { state: BackoffState; started: CreateBlock[] } {
  const next: Record<string, BackoffEntry> = {};
  const started: CreateBlock[] = [];
  // An ordinary failure beside a success is a passing fault, retried on the next manage; a quota or
  // capacity error stops its flavor whatever else happened.
  const counted = outcome.failed.filter((e) => e.limit !== undefined || outcome.created === 0);
  const failedKeys = new Set(counted.map((e) => keyOf(e, flavor)));
  for (const [key, entry] of Object.entries(state)) {
    const expiredLongAgo = entry.until + policy.maxMs < now;
    if (failedKeys.has(key) || (outcome.created === 0 && !expiredLongAgo)) next[key] = entry;
  }
  for (const error of counted) {
    const key = keyOf(error, flavor);
    if (started.some((s) => s.key === key)) continue;
    const failures = (state[key]?.failures ?? 0) + 1;
    const window = error.limit
      ? policy.quotaWindowMs * (0.9 + 0.2 * random())
      : Math.min(policy.maxMs, policy.initialMs * 2 ** (failures - 1)) * (0.5 + random());
    const entry = { failures, until: now + Math.round(window), code: error.code, reason: error.message };
    next[key] = entry;
    started.push({ key, ...entry });
  }
  return { state: next, started };
}

function keyOf(error: ShepherdError, flavor: string | undefined): string {
  return error.limit ? `${error.limit}:${flavor ?? ''}` : `class:${error.class}`;
}
