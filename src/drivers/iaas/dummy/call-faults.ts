import { unitHash } from '../../../util/seeded.js';
import { pick } from './lifecycle.js';
import type { DummyOptions } from './options.js';

/**
 * How the `n`th call of a verb goes, from the seed: its latency in seconds (`latency`, or `slow_calls`),
 * whether it outlasts `call_timeout` (the effect happens, the caller sees a timeout), and whether it fails
 * outright (`error_rate`).
 */
export function callFault(
  o: DummyOptions,
  verb: string,
  n: number,
): { latency: number; timedOut: boolean; fails: boolean } {
  let latency = pick(o.latency, unitHash(o.seed, 'latency', verb, n));
  const slow = o.slow_calls;
  if (slow && unitHash(o.seed, 'slow', verb, n) < slow.rate) latency = slow.latency;
  return {
    latency,
    timedOut: latency > o.call_timeout,
    fails: o.error_rate > 0 && unitHash(o.seed, 'error', verb, n) < o.error_rate,
  };
}
