import type { NetworkSpec, NicSpec } from '../drivers/types.js';

/** One interface as text: `net`, `net@10.0.0.5` (a fixed IP) or `port:ID`. */
export function nicText(nic: NicSpec): string {
  if ('port' in nic) return `port:${nic.port}`;
  return nic.fixedIp ? `${nic.network}@${nic.fixedIp}` : nic.network;
}

/**
 * Every interface a preset asks for, as compared and fingerprinted: the `subnets` entries as they always
 * were, then `networks` entries. Without `networks` it is the `subnets` list alone, so the fingerprints
 * of presets written before `networks` existed stay the same.
 */
export function networkRefs(network: Pick<NetworkSpec, 'subnets' | 'nics'>): string[] {
  return [...network.subnets, ...(network.nics ?? []).map(nicText)];
}
