import type { Operations } from '../daemon/operations.js';
import type { Preset } from '../presets/preset.js';
import type { PresetState } from '../reconcile/state.js';

/** Distinct responses kept (paged and filtered lists differ by query): a bound, not a working-set size. */
const MAX_MEMOS = 256;

/**
 * Reads preset states for the API and panel from the runtime store (what the loop saved after acting,
 * whichever instance managed it), keeping each for a short while so a burst of page views costs one
 * read per preset, not one per view. Actions forget the preset they changed.
 */
export class StateReader {
  private readonly cache = new Map<string, { at: number; state: Promise<PresetState> }>();
  private readonly memos = new Map<string, { at: number; value: Promise<unknown> }>();

  constructor(
    private readonly daemon: Operations,
    private readonly ttlMs = 500,
  ) {}

  state(name: string): Promise<PresetState> {
    const now = Date.now();
    const hit = this.cache.get(name);
    if (hit && now - hit.at < this.ttlMs) return hit.state;
    const state = this.daemon.presetState(name);
    this.cache.set(name, { at: now, state });
    state.catch(() => this.cache.delete(name));
    return state;
  }

  /** Every configured preset with its state, sorted by name. */
  async all(): Promise<{ preset: Preset; state: PresetState }[]> {
    const presets = [...this.daemon.presets()].sort((a, b) => a.name.localeCompare(b.name));
    const states = await Promise.all(presets.map((p) => this.state(p.name)));
    if (this.cache.size > presets.length * 2) this.cache.clear();
    return presets.map((preset, i) => ({ preset, state: states[i] as PresetState }));
  }

  /**
   * A response built from the states (the list of 1000 presets, as JSON or HTML), shared by the requests
   * of the same short window: under load, each window renders it once instead of once per request.
   */
  memo<T>(key: string, build: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.memos.get(key);
    if (hit && now - hit.at < this.ttlMs) return hit.value as Promise<T>;
    // Oldest first in the map (a key is re-inserted when rebuilt): past the bound, the oldest go, not all.
    this.memos.delete(key);
    for (const oldest of this.memos.keys()) {
      if (this.memos.size < MAX_MEMOS) break;
      this.memos.delete(oldest);
    }
    const value = build();
    this.memos.set(key, { at: now, value });
    value.catch(() => this.memos.delete(key));
    return value;
  }

  /** After an action on a preset: its state, and every response built from it, are read again. */
  forget(name: string): void {
    this.cache.delete(name);
    this.memos.clear();
  }
}
