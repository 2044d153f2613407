import { META_REVISION, type Vm } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { ManageDeps } from './manage-deps.js';
import type { PresetState } from './state.js';

type Deps = Pick<ManageDeps, 'currentPreset' | 'freshPreset' | 'knowsRevision' | 'instanceId' | 'logger'>;

/**
 * The copy of the preset a manage acts on. Acting on an old count or spec would undo what another
 * instance did on a newer one (a paused process, a watch event not handled yet, a save that failed), so:
 * the catalog's copy when it is not the one the cycle began with (a refresh read a newer revision
 * meanwhile, e.g. while a resumed process waited for its lease: the new VMs' revision is then one this
 * instance has read, and only this comparison tells); then the store read again when the last manage, by
 * another instance, used another revision, or a VM carries a revision this instance never read.
 * Undefined: the preset is gone.
 */
export async function presetNow(
  preset: Preset,
  vms: readonly Vm[],
  state: PresetState,
  deps: Deps,
  at: { fence: number; observedAt: number },
): Promise<Preset | undefined> {
  const current = deps.currentPreset ? deps.currentPreset(preset.name) : preset;
  if (!current) return undefined;
  if (current !== preset)
    noted(deps, preset, current, at.fence, 'the catalog holds a newer revision than the cycle began with');
  const unseen = unseenRevisions(vms, current, deps.knowsRevision);
  if (!deps.freshPreset || (unseen.length === 0 && !otherRevision(state, current, deps.instanceId)))
    return current;
  const fresh = await deps.freshPreset(current.name, unseen, at.observedAt);
  if (fresh) noted(deps, current, fresh, at.fence, 'another instance acted on a newer revision');
  return fresh;
}

function noted(deps: Deps, was: Preset, now: Preset, fence: number, why: string): void {
  if (now.source.revision !== was.source.revision)
    deps.logger.info(
      { revision: now.source.revision, was: was.source.revision, fence },
      `preset read again: ${why}`,
    );
}

/** True when another instance's last manage used a revision of the preset other than this one's. */
function otherRevision(state: PresetState, preset: Preset, me: string): boolean {
  return state.revision !== null && state.revision !== preset.source.revision && state.lastManagedBy !== me;
}

/** Revisions VMs were built from that this instance never read: another instance's newer preset. */
function unseenRevisions(
  vms: readonly Vm[],
  preset: Preset,
  knows: ((name: string, revision: string) => boolean) | undefined,
): string[] {
  if (!knows) return [];
  const unseen = new Set<string>();
  for (const vm of vms) {
    const rev = vm.metadata[META_REVISION];
    if (rev !== undefined && rev !== preset.source.revision && !knows(preset.name, rev)) unseen.add(rev);
  }
  return [...unseen];
}
