import { rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { PresetStore } from '../drivers/types.js';

export interface PresetStoreSubject {
  store: PresetStore;
  /** Writes (or overwrites) a preset file and makes it visible to the store (commit, for git). */
  put(name: string, text: string): Promise<void>;
  remove(name: string): Promise<void>;
  close?: () => Promise<void>;
}

/** What every preset store must do: list sources with stable revisions, notice changes, never throw. */
export function presetStoreContract(name: string, make: () => Promise<PresetStoreSubject>): void {
  const run = async (fn: (s: PresetStoreSubject) => Promise<void>) => {
    const s = await make();
    try {
      await fn(s);
    } finally {
      await s.close?.();
    }
  };

  describe(`preset store contract: ${name}`, () => {
    it('lists each preset file once, readable, with a revision', () =>
      run(async (s) => {
        await s.put('a.conf', 'name: a\ncount: 1\n');
        await s.put('b.conf', 'name: b\ncount: 2\n');
        const { sources, errors } = await s.store.load();
        expect(errors).toEqual([]);
        expect(sources).toHaveLength(2);
        const texts = await Promise.all(sources.map((src) => src.read()));
        expect(texts.sort()).toEqual(['name: a\ncount: 1\n', 'name: b\ncount: 2\n']);
        for (const src of sources) expect(src.revision).toBeTruthy();
      }));

    it('keeps revisions of unchanged files and changes them on change', () =>
      run(async (s) => {
        await s.put('a.conf', 'name: a\ncount: 1\n');
        await s.put('b.conf', 'name: b\ncount: 1\n');
        const first = await s.store.load();
        const again = await s.store.load();
        expect(again.sources.map((x) => [x.id, x.revision])).toEqual(
          first.sources.map((x) => [x.id, x.revision]),
        );
        await s.put('a.conf', 'name: a\ncount: 5\n');
        const changed = await s.store.load();
        const rev = (set: typeof first, id: string) => set.sources.find((x) => x.id === id)?.revision;
        const a = first.sources.find((x) => x.file.endsWith('a.conf'))!.id;
        const b = first.sources.find((x) => x.file.endsWith('b.conf'))!.id;
        expect(rev(changed, a)).not.toBe(rev(first, a));
        expect(rev(changed, b)).toBe(rev(first, b));
        expect(await changed.sources.find((x) => x.id === a)!.read()).toBe('name: a\ncount: 5\n');
      }));

    it('gives each source an existing directory for file:// userdata', () =>
      run(async (s) => {
        await s.put('a.conf', 'name: a\ncount: 1\n');
        const { sources } = await s.store.load();
        expect(sources).toHaveLength(1);
        for (const src of sources) expect(statSync(src.sourceRoot).isDirectory()).toBe(true);
      }));

    it('drops removed files', () =>
      run(async (s) => {
        await s.put('a.conf', 'name: a\ncount: 1\n');
        await s.put('b.conf', 'name: b\ncount: 1\n');
        await s.remove('b.conf');
        const { sources } = await s.store.load();
        expect(sources.map((x) => x.file.split('/').pop())).toEqual(['a.conf']);
      }));
  });
}

/** Helpers for stores backed by a plain directory. */
export function dirWriter(dir: string) {
  let tick = 0;
  return {
    put: async (name: string, text: string) => {
      writeFileSync(join(dir, name), text);
      // mtime resolution can hide two writes within one tick: move it forward explicitly.
      const t = new Date(Date.now() + ++tick * 1000);
      utimesSync(join(dir, name), t, t);
    },
    remove: async (name: string) => rmSync(join(dir, name)),
  };
}
