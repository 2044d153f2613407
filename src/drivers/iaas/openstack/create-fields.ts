import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { NicSpec, VmSpec } from '../../types.js';

/** One entry of Nova's `networks`: a network (with a fixed IP) or an existing port. */
export type NovaNic = { uuid: string; fixed_ip?: string } | { port: string };

/** Reads and creates use 2.47 (flavor embedded in the server). */
const MV_DEFAULT = '2.47';
/** Creates without networks use the pre-2.37 rule (Nova picks the project's only network), as the original did. */
const MV_DEFAULT_NET = '2.36';
/** `volume_type` in a block device mapping. */
const MV_VOLUME_TYPE = '2.67';

/** What decides how a server boots, resolved to ids. */
export interface CreateInputs {
  imageRef?: string | undefined;
  networks: readonly NovaNic[];
  volume?: VmSpec['volume'];
  configDrive?: boolean | undefined;
}

/**
 * The boot part of `POST /servers` and the microversion it needs (pure): the image, or with `volume` a
 * block device mapping that makes the root volume from it; the config drive; the networks. Nova's
 * default network (no `networks` key) exists only before 2.37: where 2.67 is needed for a volume type,
 * `networks: auto` asks for the same (the project's only network).
 */
export function createFields(i: CreateInputs): { fields: Record<string, unknown>; microversion: string } {
  const typed = i.volume?.type !== undefined;
  const microversion = typed ? MV_VOLUME_TYPE : i.networks.length > 0 ? MV_DEFAULT : MV_DEFAULT_NET;
  const networks = i.networks.length > 0 ? [...i.networks] : typed ? 'auto' : undefined;
  return {
    microversion,
    fields: {
      ...(i.volume ? { block_device_mapping_v2: [rootVolume(i.volume, i.imageRef)] } : {}),
      ...(!i.volume && i.imageRef ? { imageRef: i.imageRef } : {}),
      ...(i.configDrive ? { config_drive: true } : {}),
      ...(networks !== undefined ? { networks } : {}),
    },
  };
}

/** The root disk as a new volume made from the image (boot index 0). */
function rootVolume(v: NonNullable<VmSpec['volume']>, imageRef: string | undefined): Record<string, unknown> {
  if (!imageRef)
    throw new ShepherdError(
      'openstack_resolve_0001',
      'a volume to boot from is made from an image: set `image`',
    );
  return {
    boot_index: 0,
    uuid: imageRef,
    source_type: 'image',
    destination_type: 'volume',
    volume_size: v.size,
    ...(v.type ? { volume_type: v.type } : {}),
    delete_on_termination: v.deleteOnTermination,
  };
}

/** `network.networks` as Nova's entries, a network's name resolved to its id by `networkId`. */
export async function nicEntries(
  nics: readonly NicSpec[],
  networkId: (ref: string) => Promise<string>,
): Promise<NovaNic[]> {
  const out: NovaNic[] = [];
  for (const nic of nics) {
    if ('port' in nic) out.push({ port: nic.port });
    else out.push({ uuid: await networkId(nic.network), ...(nic.fixedIp ? { fixed_ip: nic.fixedIp } : {}) });
  }
  return out;
}
