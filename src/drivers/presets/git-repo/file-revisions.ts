import { createHash } from 'node:crypto';

/** What decides the revision of each preset file of one commit. */
export interface TreeFingerprint {
  commit: string;
  /** Object id of each preset file, by path relative to the preset directory. */
  presets: Map<string, string>;
  /** Hash of every other file of the preset directory (userdata, templates, anything file:// may read). */
  shared: string;
  /** Revision of each preset file: the accepted commit its content (and the shared files) came from. */
  revisions: Map<string, string>;
}

/**
 * Revisions per preset file, as commits: a file keeps the revision it had in the previously accepted
 * commit while neither it nor the shared files changed (so the catalog compiles only what changed, and
 * a VM's `vmshepherd_revision` names the commit that introduced what it was built from); otherwise its
 * revision is the new commit.
 */
export function fingerprint(
  commit: string,
  entries: { path: string; object: string }[],
  isPreset: (path: string) => boolean,
  previous: TreeFingerprint | undefined,
): TreeFingerprint {
  const presets = new Map<string, string>();
  const shared = createHash('sha1');
  for (const e of [...entries].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    if (isPreset(e.path)) presets.set(e.path, e.object);
    else shared.update(`${e.path}\0${e.object}\0`);
  }
  const sharedHash = shared.digest('hex');
  const revisions = new Map<string, string>();
  for (const [path, object] of presets) {
    const kept =
      previous && previous.shared === sharedHash && previous.presets.get(path) === object
        ? previous.revisions.get(path)
        : undefined;
    revisions.set(path, kept ?? commit);
  }
  return { commit, presets, shared: sharedHash, revisions };
}
