/**
 * Deterministic randomness for the simulated cloud and health checks: the same seed gives the same
 * faults. `unitHash` maps any key to [0, 1) so a VM's fate depends on its id, not on call order.
 */
export function unitHash(seed: number | string, ...parts: (string | number)[]): number {
  // FNV-1a over the joined key, then a murmur-style finalizer for a uniform spread.
  let h = 0x811c9dc5;
  const text = `${seed}\u0000${parts.join('\u0000')}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) / 0x100000000;
}

/** A small seeded generator (mulberry32) for sequences such as ids. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x100000000;
  };
}
