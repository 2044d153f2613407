import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import { listIn, type OpenStackApi } from './openstack-api.js';
import type { OpenStackOptions } from './options.js';
import { TtlCache } from './ttl-cache.js';

interface Flavor {
  id: string;
  name: string;
}
export interface Image {
  id: string;
  name?: string;
  status?: string;
  created_at?: string;
  /** Glance v2: the project that owns the image. */
  owner?: string;
}
interface Network {
  id: string;
  name?: string;
}
interface Subnet {
  id: string;
  name?: string;
  network_id: string;
}

/**
 * The image a preset's `image` names: the image with that id, else the newest active image of that name (a
 * re-uploaded image replaces the old one). With `image_owner_ids`, only images those projects own are
 * taken by name, so an image of the same name shared by another project is never picked. Pure.
 */
export function chooseImage(
  ref: string,
  images: readonly Image[],
  ownerIds?: readonly string[],
): Image | undefined {
  const byId = images.find((i) => i.id === ref);
  if (byId) return byId;
  const owned = (i: Image) => !ownerIds?.length || (i.owner !== undefined && ownerIds.includes(i.owner));
  return images
    .filter((i) => i.name === ref && (i.status === undefined || i.status === 'active') && owned(i))
    .sort((a, b) => (b.created_at ?? '').localeCompare(a.created_at ?? ''))[0];
}

/**
 * Names in a preset (flavor, image, network, subnet) to the ids Nova takes, and ids back to names for
 * the VMs shown. Flavors, images, networks and subnets are listed once per `cache_ttl`.
 */
export class Resolver {
  private readonly flavors: TtlCache<Flavor>;
  private readonly images: TtlCache<Image>;
  private readonly networks: TtlCache<Network>;
  private readonly subnets: TtlCache<Subnet>;

  constructor(
    api: OpenStackApi,
    private readonly o: OpenStackOptions,
    clock: Clock,
  ) {
    const ttl = o.cache_ttl * 1000;
    this.flavors = new TtlCache(
      (s) => api.pages<Flavor>('compute', '/flavors/detail', 'flavors', s),
      clock,
      ttl,
    );
    this.images = new TtlCache((s) => api.imagePages<Image>(s), clock, ttl);
    this.networks = new TtlCache(
      async (s) =>
        listIn(
          await api.json('network', 'GET', '/networks?fields=id&fields=name', { signal: s }),
          'networks',
          'GET network /networks',
        ),
      clock,
      ttl,
    );
    this.subnets = new TtlCache(
      async (s) =>
        listIn(
          await api.json('network', 'GET', '/subnets?fields=id&fields=name&fields=network_id', {
            signal: s,
          }),
          'subnets',
          'GET network /subnets',
        ),
      clock,
      ttl,
    );
  }

  async flavorId(ref: string, signal?: AbortSignal): Promise<string> {
    const found = await this.flavors.find((f) => f.id === ref || f.name === ref, signal);
    return this.pick('flavor', ref, found).id;
  }

  /** By id, or by name as chooseImage picks it among the images listed. */
  async imageId(ref: string, signal?: AbortSignal): Promise<string> {
    const found = await this.images.find((i) => i.id === ref || i.name === ref, signal);
    const owners = this.o.image_owner_ids;
    const image = chooseImage(ref, found, owners);
    if (!image) {
      const whose = owners?.length ? ` owned by ${owners.join(', ')} (image_owner_ids)` : '';
      throw new ShepherdError('openstack_resolve_0001', `image '${ref}'${whose}`);
    }
    return image.id;
  }

  /** Each entry of the preset's `subnets`: a network id or name, else a subnet id or name (its network). */
  async networkRefs(refs: readonly string[], signal?: AbortSignal): Promise<{ uuid: string }[]> {
    const out: { uuid: string }[] = [];
    for (const ref of refs) {
      const nets = await this.networks.find((n) => n.id === ref || n.name === ref, signal);
      if (nets.length > 0) {
        out.push({ uuid: this.pick('network', ref, nets).id });
        continue;
      }
      const subs = await this.subnets.find((n) => n.id === ref || n.name === ref, signal);
      out.push({ uuid: this.pick('network or subnet', ref, subs).network_id });
    }
    return out;
  }

  /** A network by id or name (`network.networks`). */
  async networkId(ref: string, signal?: AbortSignal): Promise<string> {
    return this.pick('network', ref, await this.networks.find((n) => n.id === ref || n.name === ref, signal))
      .id;
  }

  private pick<T extends { id: string }>(what: string, ref: string, found: T[]): T {
    const byId = found.find((f) => f.id === ref);
    if (byId) return byId;
    if (found.length === 0) throw new ShepherdError('openstack_resolve_0001', `${what} '${ref}'`);
    if (found.length > 1)
      throw new ShepherdError(
        'openstack_resolve_0002',
        `${what} '${ref}': ${found.map((f) => f.id).join(', ')}`,
      );
    return found[0] as T;
  }

  /** The names of an image and a flavor by id, as last listed (no call). */
  imageName(id: string): string | undefined {
    return this.images.peek().find((i) => i.id === id)?.name;
  }

  flavorName(id: string): string | undefined {
    return this.flavors.peek().find((f) => f.id === id)?.name;
  }
}
