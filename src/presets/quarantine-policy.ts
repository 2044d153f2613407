import { type Duration, durationMs } from '../config/duration.js';
import type { QuarantinePolicy } from './preset.js';

/** The compiled `healthcheck.quarantine` (nothing when absent or `keep: 0`: unhealthy VMs are deleted). */
export function quarantinePolicyOf(raw: { keep: number; ttl: Duration } | undefined): {
  quarantine?: QuarantinePolicy;
} {
  if (!raw || raw.keep === 0) return {};
  return { quarantine: { keep: raw.keep, ttlMs: durationMs(raw.ttl) } };
}
