import type { PresetOutput } from '../config/preset-schema.js';
import type { NetworkSpec, NicSpec } from '../drivers/types.js';

/** `subnets: [{net-id: X}]`, `subnets: [name]` and the original example's `subnet: [name]`, as one list. */
export function normalizeNetwork(network: PresetOutput['network']): NetworkSpec {
  const refs = [...(network?.subnets ?? []), ...[network?.subnet ?? []].flat()].map((entry) =>
    typeof entry === 'string' ? entry : 'net-id' in entry ? entry['net-id'] : entry.name,
  );
  const nics = (network?.networks ?? []).map(nicSpec);
  return {
    securityGroups: network?.security_groups ?? [],
    // A list of zones is a spread: each create gets its own (zone-spread.ts), the preset's network none.
    ...(typeof network?.availability_zone === 'string'
      ? { availabilityZone: network.availability_zone }
      : network?.availability_zone?.length === 1
        ? { availabilityZone: network.availability_zone[0] as string }
        : {}),
    subnets: [...new Set(refs)],
    // Only when given: a network spec without it hashes as it always did.
    ...(nics.length > 0 ? { nics } : {}),
  };
}

type NicInput = NonNullable<NonNullable<PresetOutput['network']>['networks']>[number];

/** `{id}`, `{name}` (either with `fixed_ip`) or `{port}` as one interface. */
function nicSpec(entry: NicInput): NicSpec {
  if ('port' in entry) return { port: entry.port };
  const network = 'id' in entry ? entry.id : entry.name;
  return entry.fixed_ip ? { network, fixedIp: entry.fixed_ip } : { network };
}
