import { type IaasCapability, META_PARTS, SPEC_FIELDS, type SpecField, type Vm } from '../drivers/types.js';
import { networkRefs } from '../presets/network-refs.js';
import type { Preset } from '../presets/preset.js';
import { decodeParts, NO_VALUE_PART } from '../presets/spec-parts.js';

/** The verbs that change spec fields in place. */
export type InPlaceVerb = 'resize' | 'rebuild' | 'setSecurityGroups' | 'setNetworks';

/**
 * Which verb changes each field in place; null: none can (a VM cannot move to another zone), so the VM
 * is replaced. A rebuild re-images the root disk: it is chosen only when the image, key pair or user data
 * differ, never for a flavor or a network.
 */
export const IN_PLACE_VERB: Readonly<Record<SpecField, InPlaceVerb | null>> = {
  flavor: 'resize',
  image: 'rebuild',
  keyName: 'rebuild',
  userdata: 'rebuild',
  securityGroups: 'setSecurityGroups',
  networks: 'setNetworks',
  availabilityZone: null,
  // A server keeps the root disk and the config drive it was built with: a change replaces it.
  volume: null,
  configDrive: null,
};

/** Steps run in this order: a resize settles the server on its flavor before anything else touches it. */
const ORDER: readonly InPlaceVerb[] = ['resize', 'rebuild', 'setSecurityGroups', 'setNetworks'];

/** Verbs that take the VM out of service while they run: they spend the rollout's availability budget. */
export const DISRUPTIVE: ReadonlySet<InPlaceVerb> = new Set(['resize', 'rebuild', 'setNetworks']);

export interface InPlaceStep {
  verb: InPlaceVerb;
  /** The fields that differ and require this verb. */
  fields: SpecField[];
}

/** How an outdated VM reaches the preset's spec. */
export type InPlaceWork =
  /** Every field is as the spec says, only the record is older: write the record, nothing else. */
  | { kind: 'record' }
  | { kind: 'update'; steps: InPlaceStep[]; disruptive: boolean }
  | { kind: 'replace'; fields: SpecField[]; reason: string };

/** Whether a field of the VM is as the preset's spec says. */
export type FieldState = 'same' | 'differs' | 'unknown';

/** The fields the cloud can change in place: a driver's own list, else every field whose verb it has. */
export function inPlaceFieldsOf(
  capabilities: ReadonlySet<IaasCapability>,
  declared?: readonly SpecField[],
): ReadonlySet<SpecField> {
  return new Set(
    SPEC_FIELDS.filter((f) => {
      const verb = IN_PLACE_VERB[f];
      return verb !== null && capabilities.has(verb) && (declared === undefined || declared.includes(f));
    }),
  );
}

/**
 * Each field as the cloud shows it against the preset's spec. A field the cloud reports is judged by what
 * it reports (truth over record); one it does not report (user data, or groups the cloud defaults) by the
 * fingerprint recorded on the VM once its change was seen; without a fingerprint it is unknown.
 */
export function fieldStates(preset: Preset, vm: Vm): Record<SpecField, FieldState> {
  const recorded = decodeParts(vm.metadata[META_PARTS]);
  const byRecord = (f: SpecField): FieldState =>
    recorded?.[f] === undefined ? 'unknown' : recorded[f] === preset.specParts[f] ? 'same' : 'differs';
  // A name the cloud could not tell (it shows the id only, e.g. its image list is not loaded yet) cannot
  // be compared with a name: the record decides.
  const ref = (want: string | undefined, name: string | undefined, id: string | undefined, f: SpecField) =>
    want === undefined
      ? 'same'
      : want === name || want === id
        ? 'same'
        : name === undefined || name === id
          ? byRecord(f)
          : 'differs';
  const set = (want: readonly string[], have: readonly string[] | undefined, f: SpecField): FieldState =>
    // An empty list leaves the choice to the cloud (its default group, its network): only the record tells.
    want.length === 0 || have === undefined ? byRecord(f) : sameSet(want, have) ? 'same' : 'differs';
  // A VM is at the spec on any flavor of a fallback list, and in any zone of a spread.
  const anyOf = (want: readonly string[], name: string | undefined, id: string | undefined) =>
    want.some((w) => w === name || w === id)
      ? 'same'
      : name === undefined || name === id
        ? byRecord('flavor')
        : 'differs';
  // Recorded before the field existed (or never recorded): the VM was built without it.
  const builtWith = (f: 'volume' | 'configDrive'): FieldState =>
    (recorded?.[f] ?? NO_VALUE_PART) === preset.specParts[f] ? 'same' : 'differs';
  const key = preset.keyName ?? null;
  const zone = preset.zones.length > 1 ? preset.zones : preset.network.availabilityZone;
  return {
    image: ref(preset.image, vm.image, vm.imageId, 'image'),
    flavor:
      preset.flavors.length > 1
        ? anyOf(preset.flavors, vm.flavor, vm.flavorId)
        : ref(preset.flavor, vm.flavor, vm.flavorId, 'flavor'),
    keyName: vm.keyName === undefined ? byRecord('keyName') : vm.keyName === key ? 'same' : 'differs',
    userdata: byRecord('userdata'),
    securityGroups: set(preset.network.securityGroups, vm.securityGroups, 'securityGroups'),
    networks: set(networkRefs(preset.network), vm.networks, 'networks'),
    availabilityZone:
      zone === undefined || vm.availabilityZone === undefined
        ? zone === undefined
          ? 'same'
          : byRecord('availabilityZone')
        : (Array.isArray(zone) ? zone.includes(vm.availabilityZone) : zone === vm.availabilityZone)
          ? 'same'
          : 'differs',
    volume: builtWith('volume'),
    configDrive: builtWith('configDrive'),
  };
}

/**
 * The work that brings an outdated VM to the preset's spec in place (pure): the verbs the differing
 * fields require, in order, then the record; or replacement when a field cannot be changed in place,
 * cannot be compared, or the cloud cannot record a spec.
 */
export function inPlaceWork(
  preset: Preset,
  vm: Vm,
  inPlace: ReadonlySet<SpecField>,
  canRecord: boolean,
): InPlaceWork {
  const states = fieldStates(preset, vm);
  const differing = SPEC_FIELDS.filter((f) => states[f] !== 'same');
  const unknown = differing.filter((f) => states[f] === 'unknown');
  if (unknown.length > 0)
    return {
      kind: 'replace',
      fields: unknown,
      reason: `${unknown.join(', ')} not recorded on the VM: cannot tell whether it differs`,
    };
  // A rebuild re-images a local root disk; a root volume it leaves as it is (Nova before 2.93 refuses
  // another image for it): what a rebuild would change on a volume-backed VM takes a new VM.
  const fixed = differing.filter((f) => !inPlace.has(f) || (preset.volume && IN_PLACE_VERB[f] === 'rebuild'));
  if (fixed.length > 0)
    return { kind: 'replace', fields: fixed, reason: `${fixed.join(', ')} cannot be changed in place` };
  if (!canRecord)
    return { kind: 'replace', fields: differing, reason: 'the cloud cannot record a spec on a VM' };
  const steps = ORDER.map((verb) => ({
    verb,
    fields: differing.filter((f) => IN_PLACE_VERB[f] === verb),
  })).filter((s) => s.fields.length > 0);
  // A resize left waiting for its confirmation (e.g. the daemon stopped in between) is finished, not redone.
  if (vm.resizeUnconfirmed && !steps.some((s) => s.verb === 'resize')) {
    if (!inPlace.has('flavor'))
      return {
        kind: 'replace',
        fields: ['flavor'],
        reason: 'a resize waits and the cloud cannot confirm it',
      };
    steps.unshift({ verb: 'resize', fields: ['flavor'] });
  }
  if (steps.length === 0) return { kind: 'record' };
  return { kind: 'update', steps, disruptive: steps.some((s) => DISRUPTIVE.has(s.verb)) };
}

/** `resize+rebuild`, or `record` when only the record is written. */
export function opName(steps: readonly InPlaceStep[]): string {
  return steps.length === 0 ? 'record' : steps.map((s) => s.verb).join('+');
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  const x = new Set(a);
  const y = new Set(b);
  return x.size === y.size && [...x].every((v) => y.has(v));
}
