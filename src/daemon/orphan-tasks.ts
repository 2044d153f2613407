import { cancellable } from '../drivers/runtime/memory-tasks.js';
import type { TaskRecord } from '../drivers/types.js';

/**
 * How long a preset must be missing before its waiting tasks are cancelled: another instance may still
 * read it (a git revision not fetched here yet, a reload in progress) and run them meanwhile.
 */
export const ORPHAN_TASK_GRACE_MS = 600_000;

/** What the presets say of a name: managed, or possibly in a file that cannot be read now. */
export interface PresetPresence {
  managed(name: string): boolean;
  /** True while a preset file or store fails: a missing preset may be in it. */
  uncertain(): boolean;
}

/**
 * Tasks of presets that are gone: no lease of a removed preset is taken, so nobody would ever run them.
 * Remembers since when each preset with active tasks has been missing here; `due` names the tasks to
 * cancel once it has been missing for the grace, and only those still cancellable.
 */
export class OrphanTasks {
  private readonly missingSince = new Map<string, number>();

  constructor(private readonly graceMs = ORPHAN_TASK_GRACE_MS) {}

  due(active: readonly TaskRecord[], presets: PresetPresence, now: number): TaskRecord[] {
    const missing = new Set<string>();
    for (const t of active) if (!presets.managed(t.preset)) missing.add(t.preset);
    // Asked only when a preset is missing: it walks every preset file, and the daemon asks each cycle.
    if (missing.size > 0 && presets.uncertain()) missing.clear();
    for (const name of [...this.missingSince.keys()]) if (!missing.has(name)) this.missingSince.delete(name);
    for (const name of missing) if (!this.missingSince.has(name)) this.missingSince.set(name, now);
    return active.filter((t) => {
      const since = this.missingSince.get(t.preset);
      return since !== undefined && now - since >= this.graceMs && cancellable(t);
    });
  }
}
