import { distance } from 'fastest-levenshtein';

/** The known key closest to `key`, when it is close enough to be a likely typo. */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of known) {
    const d = distance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  // Allow about one edit per four characters (transposed letters count as two), at least two.
  const allowed = Math.max(2, Math.ceil(key.length / 4));
  return best !== undefined && bestDistance <= allowed ? best : undefined;
}

export function didYouMean(key: string, known: readonly string[] | undefined): string {
  const hint = known ? closestKey(key, known) : undefined;
  return hint ? ` (did you mean '${hint}'?)` : '';
}
