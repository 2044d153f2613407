import { stableJson } from './deep-merge.js';

/**
 * One object for all equal JSON values handed to `share`: the first one given, as long as anything still
 * holds it. Presets written alike compile to equal driver blocks and policies, which would otherwise be
 * held once per preset. Values are held weakly, so a cache kept across reloads only ever holds
 * what the presets in force use.
 */
export class SharedValues {
  private readonly byJson = new Map<string, WeakRef<object>>();
  private readonly forget = new FinalizationRegistry<string>((json) => {
    if (this.byJson.get(json)?.deref() === undefined) this.byJson.delete(json);
  });

  /** `value`, or an equal value given before (never to be changed by its holders: it is shared). */
  share<T extends object>(value: T): T {
    const json = stableJson(value);
    const known = this.byJson.get(json)?.deref();
    if (known !== undefined) return known as T;
    this.byJson.set(json, new WeakRef(value));
    this.forget.register(value, json);
    return value;
  }

  /** Distinct values held (for tests). */
  get size(): number {
    return this.byJson.size;
  }
}
