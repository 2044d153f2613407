/**
 * Whether a preset last managed at `lastManagedAt` (epoch ms, as the instance that managed it saw the
 * time) is due again at `now`. A time further in the future than one interval is no reason to wait: an
 * instance whose clock ran ahead wrote it (or this clock was stepped back), and trusting it would leave
 * the preset unmanaged, by every instance, until the wall clocks caught up (an hour for a one-hour step).
 * Within one interval, ordinary skew between instances is accepted rather than managing twice.
 */
export function isDue(lastManagedAt: number | null, intervalMs: number, now: number): boolean {
  if (lastManagedAt === null) return true;
  return now >= lastManagedAt + intervalMs || lastManagedAt > now + intervalMs;
}
