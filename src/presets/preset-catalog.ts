import { stat } from 'node:fs/promises';
import PQueue from 'p-queue';
import { uniqueProblems } from '../config/report-issues.js';
import type { PresetSource, PresetStore } from '../drivers/types.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { SharedValues } from '../util/shared-values.js';
import { type CompileContext, type CompileResult, compilePreset, type Dependency } from './compile-preset.js';
import type { Preset } from './preset.js';

interface Entry {
  source: PresetSource;
  result: CompileResult;
  /** The last revision of this file that compiled: kept managed while a newer revision is broken. */
  lastGood?: Preset;
}

export interface RefreshReport {
  added: string[];
  changed: string[];
  removed: string[];
  /** Files compiled in this refresh (unchanged ones are not read again). */
  compiled: number;
  problems: ShepherdError[];
}

/**
 * The presets currently in force. A refresh asks the store what changed and compiles only files whose
 * revision (or file:// userdata) changed, so userdata is rendered once per revision, not per cycle.
 * A file that breaks keeps its last good revision managed; other files are never affected.
 */
export class PresetCatalog {
  private readonly entries = new Map<string, Entry>();
  private byName = new Map<string, Preset>();
  private current: ShepherdError[] = [];
  private storeFailed = false;
  private readonly shared = new SharedValues();

  constructor(
    private readonly store: PresetStore,
    private readonly ctx: CompileContext,
  ) {}

  async refresh(): Promise<RefreshReport> {
    const before = this.byName;
    const set = await this.store
      .load()
      .catch((err) => ({ sources: undefined, errors: [asShepherdError(err, 'preset_load_2001')] }));
    let compiled = 0;
    if (set.sources) {
      const seen = new Set<string>();
      const queue = new PQueue({ concurrency: 16 });
      for (const source of set.sources) {
        seen.add(source.id);
        const entry = this.entries.get(source.id);
        queue.add(async () => {
          if (
            entry &&
            entry.source.revision === source.revision &&
            (await unchanged(entry.result.dependencies))
          )
            return;
          compiled++;
          this.entries.set(source.id, await this.compile(source, entry));
        });
      }
      await queue.onIdle();
      for (const id of [...this.entries.keys()]) if (!seen.has(id)) this.entries.delete(id);
    }
    const storeErrors = set.errors.map((e) => asShepherdError(e, 'preset_load_2001'));
    this.storeFailed = !set.sources || storeErrors.length > 0;
    if (!set.sources && this.entries.size > 0)
      storeErrors.push(
        new ShepherdError('preset_load_1010', `${this.entries.size} preset files as last read`),
      );
    this.rebuild(storeErrors);
    return {
      added: [...this.byName.keys()].filter((n) => !before.has(n)),
      changed: [...this.byName.entries()]
        .filter(([n, p]) => before.has(n) && before.get(n) !== p)
        .map(([n]) => n),
      removed: [...before.keys()].filter((n) => !this.byName.has(n)),
      compiled,
      problems: this.current,
    };
  }

  /** Presets to manage, by name. */
  presets(): Preset[] {
    return [...this.byName.values()];
  }

  get(name: string): Preset | undefined {
    return this.byName.get(name);
  }

  /**
   * True while the store could not be read whole, or a file yields no preset at all (broken since this
   * process started): a preset missing from `presets()` may be in it.
   */
  uncertain(): boolean {
    return this.storeFailed || [...this.entries.values()].some((e) => !e.result.preset && !e.lastGood);
  }

  /** Errors and warnings in force: broken files, duplicates, store failures. */
  problems(): ShepherdError[] {
    return this.current;
  }

  private async compile(source: PresetSource, previous: Entry | undefined): Promise<Entry> {
    let result: CompileResult;
    try {
      result = await compilePreset(source, await source.read(), this.ctx);
    } catch (err) {
      result = {
        errors: [asShepherdError(err, 'preset_load_2001', source.file)],
        warnings: [],
        dependencies: [],
      };
    }
    if (result.preset) result = { ...result, preset: shareParts(result.preset, this.shared) };
    const lastGood = result.preset ?? previous?.lastGood;
    return { source, result, ...(lastGood ? { lastGood } : {}) };
  }

  private rebuild(storeErrors: ShepherdError[]): void {
    const byName = new Map<string, Preset>();
    const problems: ShepherdError[] = [...storeErrors];
    const owner = new Map<string, string>();
    const sorted = [...this.entries.values()].sort((a, b) => a.source.id.localeCompare(b.source.id));
    for (const { source, result, lastGood } of sorted) {
      problems.push(...result.errors, ...result.warnings);
      const preset = result.preset ?? lastGood;
      if (!preset) continue;
      if (!result.preset) {
        problems.push(
          new ShepherdError(
            'preset_load_1005',
            `${source.file}: still managing ${preset.name} at revision ${preset.source.revision}`,
            {
              details: { preset: preset.name, file: source.file },
            },
          ),
        );
      }
      const first = owner.get(preset.name);
      if (first) {
        problems.push(
          new ShepherdError(
            'preset_load_1004',
            `'${preset.name}' in ${source.file}; first declared in ${first}`,
            { details: { preset: preset.name } },
          ),
        );
        continue;
      }
      owner.set(preset.name, source.file);
      byName.set(preset.name, preset);
    }
    this.byName = new Map([...byName.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
    this.current = uniqueProblems(problems);
  }
}

async function unchanged(dependencies: Dependency[]): Promise<boolean> {
  for (const dep of dependencies) {
    const s = await stat(dep.path).catch(() => undefined);
    if (!s || s.mtimeMs !== dep.mtimeMs) return false;
  }
  return true;
}

/** The preset with the parts presets usually have alike (driver blocks, policies) shared with its peers. */
function shareParts(p: Preset, shared: SharedValues): Preset {
  return {
    ...p,
    network: shared.share(p.network),
    metaTags: shared.share(p.metaTags),
    metaTagText: shared.share(p.metaTagText),
    panelLinks: shared.share(p.panelLinks),
    iaas: shared.share(p.iaas),
    healthcheck: p.healthcheck && shared.share(p.healthcheck),
    update: shared.share(p.update),
    createBackoff: shared.share(p.createBackoff),
    extra: shared.share(p.extra),
  };
}
