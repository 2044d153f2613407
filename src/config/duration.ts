import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
const WHOLE = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h|d))+$/;

/** A duration: seconds (a number, as the original wrote them) or a string like "24h", "30m", "1h30m". */
export const durationSchema = z.union([
  z.number().nonnegative(),
  z.string().regex(WHOLE, 'expected seconds (a number) or a duration like "24h", "30m", "1h30m", "90s"'),
]);
export type Duration = z.infer<typeof durationSchema>;

/** Milliseconds of a duration the schema accepted. */
export function durationMs(d: Duration): number {
  if (typeof d === 'number') return d * 1000;
  let ms = 0;
  for (const [, n, unit] of d.matchAll(PART)) ms += Number(n) * UNIT_MS[unit as keyof typeof UNIT_MS];
  return Math.round(ms);
}
