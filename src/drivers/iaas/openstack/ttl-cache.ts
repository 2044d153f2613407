import type { Clock } from '../../../util/clock.js';

/**
 * A list loaded from the cloud (flavors, images, networks), kept for `ttlMs` and loaded again earlier when
 * a lookup misses, at most once per `missIntervalMs` so an unknown name cannot cause a listing storm.
 * Concurrent loads share one request.
 */
export class TtlCache<T> {
  private items: T[] | undefined;
  private loadedAt = 0;
  private loading: Promise<T[]> | undefined;

  constructor(
    private readonly load: (signal?: AbortSignal) => Promise<T[]>,
    private readonly clock: Clock,
    private readonly ttlMs: number,
    private readonly missIntervalMs = 5_000,
  ) {}

  /** The cached items without loading (for display names); empty before the first load. */
  peek(): readonly T[] {
    return this.items ?? [];
  }

  /** Drops the items: the next lookup loads them again (after a change made by this process). */
  forget(): void {
    this.items = undefined;
  }

  async find(match: (item: T) => boolean, signal?: AbortSignal): Promise<T[]> {
    const fresh = this.items !== undefined && this.clock.now() - this.loadedAt < this.ttlMs;
    const items = fresh && this.items ? this.items : await this.reload(signal);
    const found = items.filter(match);
    if (found.length > 0 || this.clock.now() - this.loadedAt < this.missIntervalMs) return found;
    return (await this.reload(signal)).filter(match);
  }

  private reload(signal?: AbortSignal): Promise<T[]> {
    this.loading ??= this.load(signal)
      .then((items) => {
        this.items = items;
        this.loadedAt = this.clock.now();
        return items;
      })
      .finally(() => {
        this.loading = undefined;
      });
    return this.loading;
  }
}
