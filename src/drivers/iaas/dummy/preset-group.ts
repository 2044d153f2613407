import type { Vm } from '../../types.js';

/**
 * One preset's VMs as a line of the simulator's grouped listing. What all of them have alike (the
 * preset's metadata, image, flavor, mostly their state) can be sent once, in `common`, and left out of
 * each VM: about half of a listing, which the daemon holds as text until each preset is managed
 * (remote.ts). A line without `common` is a plain one.
 */
export interface PresetGroup {
  preset: string;
  vms: Partial<Vm>[];
  common?: Partial<Vm>;
}

/**
 * The media type parameter with which a client asks for lines with `common` (one that does not ask, an
 * older daemon, gets plain lines).
 */
export const PACKED = 'groups=packed';

/** The line of `vms`, with what every one of them has alike in `common` (when there are two or more). */
export function packGroup(preset: string, vms: readonly Vm[]): PresetGroup {
  const [first, ...others] = vms;
  if (!first || others.length === 0) return { preset, vms: [...vms] };
  const common: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(first)) {
    if (key !== 'metadata' && isPlain(value) && others.every((vm) => same(field(vm, key), value)))
      common[key] = value;
  }
  // Metadata keys are the operator's (meta_tags): `__proto__` stays with each VM, where JSON.parse makes
  // it a key like any other (assigned when unpacking, it would not be one).
  const metadata: Record<string, string> = {};
  for (const [key, value] of Object.entries(first.metadata)) {
    if (
      key !== '__proto__' &&
      others.every((vm) => Object.hasOwn(vm.metadata, key) && vm.metadata[key] === value)
    )
      metadata[key] = value;
  }
  if (Object.keys(metadata).length > 0) common.metadata = metadata;
  return { preset, vms: vms.map((vm) => without(vm, common, metadata)), common };
}

/**
 * The VMs of a line, packed or plain, completed in place: the group is one just parsed, and is used up.
 * Copying each VM into a new object literal with spreads instead was slower and left most of what it
 * built in V8's old generation, multiplying the full collections (docs/performance.md).
 */
export function unpackGroup(group: PresetGroup): Vm[] {
  const common = group.common as Record<string, unknown> | undefined;
  if (!common) return group.vms as Vm[];
  const shared = (common.metadata ?? {}) as Record<string, string>;
  for (const vm of group.vms as Record<string, unknown>[]) {
    for (const key in common) if (key !== 'metadata') vm[key] = common[key];
    const metadata = (vm.metadata ?? {}) as Record<string, string>;
    for (const key in shared) metadata[key] = shared[key] as string;
    vm.metadata = metadata;
  }
  return group.vms as Vm[];
}

function without(vm: Vm, common: Record<string, unknown>, metadata: Record<string, string>): Partial<Vm> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(vm))
    if (key !== 'metadata' && !Object.hasOwn(common, key)) out[key] = value;
  const own = Object.entries(vm.metadata).filter(([key]) => !Object.hasOwn(metadata, key));
  if (own.length > 0) out.metadata = Object.fromEntries(own);
  return out as Partial<Vm>;
}

function field(vm: Vm, key: string): unknown {
  return (vm as unknown as Record<string, unknown>)[key];
}

/** Scalars, null and lists of strings (security groups, networks): what VMs of a preset mostly share. */
function isPlain(value: unknown): boolean {
  return (
    value === null ||
    typeof value === 'string' ||
    typeof value === 'number' ||
    typeof value === 'boolean' ||
    (Array.isArray(value) && value.every((v) => typeof v === 'string'))
  );
}

function same(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
  return a.every((v, i) => v === b[i]);
}
