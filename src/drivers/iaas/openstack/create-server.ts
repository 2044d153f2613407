import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import { type CreateOptions, META_IDEMPOTENCY, type Vm, type VmSpec } from '../../types.js';
import { createFields, nicEntries } from './create-fields.js';
import type { HttpResponse } from './http.js';
import type { OpenStackApi } from './openstack-api.js';
import type { Resolver } from './resolver.js';
import type { ServerGroups } from './server-groups.js';
import type { NovaServer } from './server-view.js';

/**
 * Creates whose outcome was unknown (timeout, dropped connection, 5xx from a proxy, an answer that could
 * not be read): they may have taken effect.
 */
const AMBIGUOUS = [
  'openstack_call_2001',
  'openstack_call_2002',
  'openstack_call_2003',
  'openstack_answer_2001',
  'openstack_answer_2002',
];
/** How many idempotency keys of this process's creates are remembered. */
const KEYS_KEPT = 10_000;

/**
 * Creates servers, each at most once per idempotency key: a create whose outcome was unknown is looked
 * for by its key (in the metadata) before it is ever sent again.
 */
export class ServerCreator {
  /** Idempotency key → server id, for creates of this process. */
  private readonly byKey = new Map<string, string>();

  constructor(
    private readonly api: OpenStackApi,
    private readonly resolver: Resolver,
    private readonly groups: ServerGroups,
    private readonly clock: Clock,
    private readonly view: (s: NovaServer) => Vm,
  ) {}

  async create(spec: VmSpec, options: CreateOptions): Promise<Vm> {
    const key = options.idempotencyKey;
    const signal = options.signal;
    const known = this.byKey.get(key);
    if (known) {
      const s = await this.api.server(known, signal);
      if (s) return this.view(s);
    }
    const [imageRef, flavorRef, networks, nics, group] = await Promise.all([
      spec.image ? this.resolver.imageId(spec.image, signal) : undefined,
      spec.flavor ? this.resolver.flavorId(spec.flavor, signal) : undefined,
      this.resolver.networkRefs(spec.network.subnets, signal),
      nicEntries(spec.network.nics ?? [], (ref) => this.resolver.networkId(ref, signal)),
      this.groups.hintFor(spec.serverGroup, spec.preset, signal),
    ]);
    const boot = createFields({
      imageRef,
      networks: [...networks, ...nics],
      volume: spec.volume,
      configDrive: spec.configDrive,
    });
    const metadata = { ...spec.metadata, [META_IDEMPOTENCY]: key };
    const server = serverBody(spec, boot.fields, flavorRef, metadata);
    let res: HttpResponse;
    try {
      res = await this.api.send('compute', 'POST', '/servers', {
        body: { server, ...(group ? { 'os:scheduler_hints': { group } } : {}) },
        microversion: boot.microversion,
        signal,
      });
    } catch (err) {
      // Never repeat a create that may have happened: look for the key first.
      if (err instanceof ShepherdError && AMBIGUOUS.includes(err.code)) {
        const found = await this.findByKey(spec.name, key, signal).catch(() => undefined);
        if (found) return found;
      }
      // A refused create may name a group deleted behind our back: look the groups up again next time.
      if (group && err instanceof ShepherdError && err.class === 'api') this.groups.invalidate();
      throw err;
    }
    const id = (res.body as { server: { id: string } }).server.id;
    this.remember(key, id);
    return {
      id,
      name: spec.name,
      state: 'pending',
      providerStatus: 'BUILD',
      ips: [],
      createdAt: new Date(this.clock.now()).toISOString(),
      metadata,
      ...(spec.image ? { image: spec.image } : {}),
      ...(spec.flavor ? { flavor: spec.flavor } : {}),
    };
  }

  private async findByKey(name: string, key: string, signal?: AbortSignal): Promise<Vm | undefined> {
    const servers = await this.api.servers({ name: `^${escapeRegex(name)}$` }, signal);
    const s = servers.find((x) => x.metadata?.[META_IDEMPOTENCY] === key);
    if (!s) return undefined;
    this.remember(key, s.id);
    return this.view(s);
  }

  private remember(key: string, id: string): void {
    this.byKey.set(key, id);
    if (this.byKey.size > KEYS_KEPT) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
  }
}

/** The `server` of Nova's create request: the spec with its names resolved (`boot`: image or volume, networks). Pure. */
export function serverBody(
  spec: VmSpec,
  boot: Record<string, unknown>,
  flavorRef: string | undefined,
  metadata: Record<string, string>,
): Record<string, unknown> {
  return {
    name: spec.name,
    ...boot,
    ...(flavorRef ? { flavorRef } : {}),
    metadata,
    ...(spec.keyName ? { key_name: spec.keyName } : {}),
    ...(spec.userdata ? { user_data: Buffer.from(spec.userdata, 'utf8').toString('base64') } : {}),
    ...(spec.network.availabilityZone ? { availability_zone: spec.network.availabilityZone } : {}),
    ...(spec.network.securityGroups.length > 0
      ? { security_groups: spec.network.securityGroups.map((name) => ({ name })) }
      : {}),
  };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
