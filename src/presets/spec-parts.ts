import { createHash } from 'node:crypto';
import { type NetworkSpec, SPEC_FIELDS, type SpecField, type VolumeSpec } from '../drivers/types.js';
import { stableJson } from '../util/deep-merge.js';
import { networkRefs } from './network-refs.js';

/** What a VM is built from, as a preset declares it. */
export interface SpecValues {
  image?: string | undefined;
  /** A list of two or more: the fallbacks in order (a single flavor is its string). */
  flavor?: string | string[] | undefined;
  keyName?: string | undefined;
  userdata?: string | undefined;
  /** A zone list of two or more: a spread (a single zone is its string). */
  network: Omit<NetworkSpec, 'availabilityZone'> & { availabilityZone?: string | string[] };
  volume?: VolumeSpec | undefined;
  /** Only `true` is kept: a config drive not asked for and `config_drive: false` are the same spec. */
  configDrive?: boolean | undefined;
}

/** A short fingerprint of each spec field. */
export type SpecParts = Readonly<Record<SpecField, string>>;

/**
 * What a preset declares, as hashed: a list of two or more flavors or zones as the list (zones as a set,
 * sorted), a single one as the string it always was, so VMs of the single forms stay current.
 */
export function declaredSpec(p: {
  image?: string | undefined;
  flavor?: string | undefined;
  flavors?: readonly string[];
  zones?: readonly string[];
  keyName?: string | undefined;
  userdata?: string | undefined;
  network: NetworkSpec;
  volume?: VolumeSpec | undefined;
  configDrive?: boolean | undefined;
}): SpecValues {
  const flavors = p.flavors ?? [];
  const zones = p.zones ?? [];
  return {
    image: p.image,
    flavor: flavors.length > 1 ? [...flavors] : p.flavor,
    network: zones.length > 1 ? { ...p.network, availabilityZone: [...zones].sort() } : p.network,
    keyName: p.keyName,
    userdata: p.userdata,
    volume: p.volume,
    configDrive: p.configDrive ? true : undefined,
  };
}

/**
 * Hash of the whole spec: VMs record it, and a different one marks a VM as outdated. A volume or config
 * drive not asked for is left out (JSON drops undefined), so specs written before they existed keep their hash.
 */
export function specHashOf(spec: SpecValues): string {
  const { image, flavor, network, keyName, userdata, volume, configDrive } = spec;
  return createHash('sha256')
    .update(
      stableJson({
        image,
        flavor,
        network,
        keyName,
        userdata,
        volume,
        configDrive: configDrive || undefined,
      }),
    )
    .digest('hex')
    .slice(0, 16);
}

/** The value of one field as it is compared: absent is null, groups as a set (sorted, each once). */
export function specValue(spec: SpecValues, field: SpecField): string | string[] | null {
  switch (field) {
    case 'securityGroups':
      return [...new Set(spec.network.securityGroups)].sort();
    case 'networks':
      return networkRefs(spec.network);
    case 'volume':
      return spec.volume ? stableJson(spec.volume) : null;
    case 'configDrive':
      return spec.configDrive ? 'true' : null;
    case 'availabilityZone': {
      const zone = spec.network.availabilityZone;
      return Array.isArray(zone) ? [...zone].sort() : (zone ?? null);
    }
    default:
      return spec[field] ?? null;
  }
}

export function specPartsOf(spec: SpecValues): SpecParts {
  const parts = {} as Record<SpecField, string>;
  for (const field of SPEC_FIELDS) parts[field] = partHash(specValue(spec, field));
  return parts;
}

/** The fingerprint of a field not asked for (null). */
export const NO_VALUE_PART = partHash(null);

function partHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 8);
}

/** One letter per field in the recorded metadata: a VM's metadata value is short (Nova: 255 characters). */
const LETTER: Readonly<Record<SpecField, string>> = {
  image: 'i',
  flavor: 'f',
  keyName: 'k',
  userdata: 'u',
  securityGroups: 'g',
  networks: 'n',
  availabilityZone: 'z',
  volume: 'v',
  configDrive: 'c',
};
const FIELD_OF = new Map(SPEC_FIELDS.map((f) => [LETTER[f], f]));

/** `i=1a2b3c4d,f=...`: the fingerprints as one metadata value. */
export function encodeParts(parts: Partial<Record<SpecField, string>>): string {
  return SPEC_FIELDS.filter((f) => parts[f] !== undefined)
    .map((f) => `${LETTER[f]}=${parts[f]}`)
    .join(',');
}

/** The recorded fingerprints; undefined when the VM records none (built before they were recorded). */
export function decodeParts(text: string | undefined): Partial<Record<SpecField, string>> | undefined {
  if (!text) return undefined;
  const parts: Partial<Record<SpecField, string>> = {};
  for (const pair of text.split(',')) {
    const [letter, hash] = pair.split('=');
    const field = letter ? FIELD_OF.get(letter) : undefined;
    if (field && hash) parts[field] = hash;
  }
  return parts;
}
