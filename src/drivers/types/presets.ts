/** The presets store contract: where preset files come from. */
import type { CallOptions } from './call-options.js';

/** One preset file as a store sees it. The core parses, validates and renders it. */
export interface PresetSource {
  /** Unique within the store, stable across reloads (e.g. the file path). */
  id: string;
  /** Path shown in errors, e.g. `presets/web.conf`. */
  file: string;
  /** Changes whenever the content may have changed (mtime hash, git blob id). */
  revision: string;
  /** Prefix of preset names, e.g. `team.` for GitRepoDriver. */
  namePrefix?: string;
  /** Directory `file://` userdata is read from unless the main config sets `userdata_source_root`. */
  sourceRoot: string;
  read(): Promise<string>;
}

export interface PresetSourceSet {
  sources: PresetSource[];
  /**
   * Problems of the store itself (a file that cannot be read, failed fetch); the sources still listed are
   * used. A store that cannot list at all (its directory is gone) throws instead: an empty list would
   * read as "no presets" and stop managing every one.
   */
  errors: Error[];
}

export interface PresetStore {
  /** Cheap when nothing changed: the core only reads sources whose revision changed. */
  load(options?: CallOptions): Promise<PresetSourceSet>;
  /** Calls `onChange` when sources may have changed; returns a function that stops watching. */
  watch?(onChange: () => void): () => void;
  close?(): Promise<void>;
}
