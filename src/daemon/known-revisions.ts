/** How many revisions of one preset are remembered; the oldest go first. */
const KEPT = 32;

/**
 * The revisions of each preset this instance has read, so a VM built from a revision it never read tells
 * it that another instance acts on a newer preset (one refresh of the catalog, then known).
 */
export class KnownRevisions {
  private readonly byPreset = new Map<string, Set<string>>();

  add(preset: string, revision: string): void {
    let set = this.byPreset.get(preset);
    if (!set) {
      set = new Set();
      this.byPreset.set(preset, set);
    }
    set.delete(revision);
    set.add(revision);
    if (set.size > KEPT) set.delete(set.values().next().value as string);
  }

  has(preset: string, revision: string): boolean {
    return this.byPreset.get(preset)?.has(revision) ?? false;
  }
}
