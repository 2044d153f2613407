import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import { NextFlight } from '../../../util/next-flight.js';
import {
  type CallOptions,
  type CreateOptions,
  type IaasDriver,
  META_IDEMPOTENCY,
  META_PRESET,
  type PresetPlacement,
  type Vm,
  type VmSpec,
} from '../../types.js';
import { createFields, nicEntries } from './create-fields.js';
import type { Credentials } from './credentials.js';
import { HttpClient, type HttpResponse, isCode } from './http.js';
import { KeystoneSession, type ServiceType } from './keystone.js';
import { ServerPass } from './listing-pass.js';
import type { OpenStackOptions } from './options.js';
import { ServerGroups } from './server-groups.js';
import { type NovaServer, serverToVm } from './server-view.js';
import { TtlCache } from './ttl-cache.js';

/** Read calls use 2.47 (flavor embedded in the server, extended attributes from 2.3 on). */
const MV_READ = '2.47';
/** Pauses before listing again while servers are being scheduled: about 4 s in all, as long as one takes. */
const RELIST_PAUSES_MS = [250, 500, 1000, 1000, 1000];
/** Rebuild sends key_name (2.54) and user_data (2.57). */
const MV_REBUILD = '2.57';
/** Server groups with `policy` as one string (2.64). */
const MV_GROUPS = '2.64';

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

interface Request {
  body?: unknown;
  microversion?: string;
  accept?: readonly number[];
  signal?: AbortSignal | undefined;
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
 * One OpenStack project as an IaaS driver: Nova for servers, Glance for images, Neutron for networks,
 * Keystone for the token and the catalog. Membership is by metadata (never by name), listings follow
 * `limit`/`marker` pages, and flavors, images and networks are cached.
 */
export class OpenStackCloud implements IaasDriver {
  readonly http: HttpClient;
  readonly session: KeystoneSession;
  private readonly flavors: TtlCache<Flavor>;
  private readonly images: TtlCache<Image>;
  private readonly networks: TtlCache<Network>;
  private readonly subnets: TtlCache<Subnet>;
  private readonly groups: ServerGroups;
  /** Idempotency key → server id, for creates of this process. */
  private readonly byKey = new Map<string, string>();
  /**
   * Project listings: Nova cannot filter by metadata, so a preset's listing is the whole project's. When
   * many are asked for at once (every preset of a project, after the account listing failed), those that
   * arrive while one is in flight share the next instead of each making its own.
   */
  private readonly listings = new NextFlight(async () => (await this.servers({})).map((s) => this.view(s)));

  constructor(
    private readonly creds: Credentials,
    private readonly o: OpenStackOptions,
    private readonly clock: Clock,
  ) {
    this.http = new HttpClient({
      timeoutMs: o.http_timeout * 1000,
      insecure: creds.insecure,
      ...(creds.cacert ? { cacert: creds.cacert } : {}),
    });
    this.session = new KeystoneSession(creds, this.http, clock);
    const ttl = o.cache_ttl * 1000;
    this.flavors = new TtlCache(
      (s) => this.pages<Flavor>('compute', '/flavors/detail', 'flavors', s),
      clock,
      ttl,
    );
    this.images = new TtlCache((s) => this.imagePages(s), clock, ttl);
    this.groups = new ServerGroups(
      (method, path, body, signal) =>
        this.json('compute', method, path, {
          body,
          microversion: MV_GROUPS,
          signal,
          ...(method === 'DELETE' ? { accept: [404] } : {}),
        }),
      clock,
      ttl,
    );
    this.networks = new TtlCache(
      async (s) =>
        listIn(
          await this.json('network', 'GET', '/networks?fields=id&fields=name', { signal: s }),
          'networks',
          'GET network /networks',
        ),
      clock,
      ttl,
    );
    this.subnets = new TtlCache(
      async (s) =>
        listIn(
          await this.json('network', 'GET', '/subnets?fields=id&fields=name&fields=network_id', {
            signal: s,
          }),
          'subnets',
          'GET network /subnets',
        ),
      clock,
      ttl,
    );
  }

  // ----- IaasDriver ----------------------------------------------------------------------------------

  /** The preset's servers, and servers without vmshepherd's metadata named exactly after it (the original's). */
  async list(preset: string, options?: CallOptions): Promise<Vm[]> {
    return (await this.listAll(options)).filter((vm) => (vm.metadata[META_PRESET] ?? vm.name) === preset);
  }

  /**
   * One paginated listing of the project, started at or after this call (shared with the other callers
   * waiting for it): every server, those without vmshepherd's metadata included (the loop takes them only
   * as the original VmShepherd's, named exactly after a preset, to adopt them).
   */
  listAll(options?: CallOptions): Promise<Vm[]> {
    return this.listings.run(options?.signal);
  }

  async get(vmId: string, options?: CallOptions): Promise<Vm | null> {
    const s = await this.server(vmId, options?.signal);
    return s ? this.view(s) : null;
  }

  async create(spec: VmSpec, options: CreateOptions): Promise<Vm> {
    const key = options.idempotencyKey;
    const signal = options.signal;
    const known = this.byKey.get(key);
    if (known) {
      const vm = await this.get(known, { ...(signal ? { signal } : {}) });
      if (vm) return vm;
    }
    const [imageRef, flavorRef, networks, nics, group] = await Promise.all([
      spec.image ? this.imageId(spec.image, signal) : undefined,
      spec.flavor ? this.flavorId(spec.flavor, signal) : undefined,
      this.networkRefs(spec.network.subnets, signal),
      nicEntries(spec.network.nics ?? [], (ref) => this.networkId(ref, signal)),
      this.groups.hintFor(spec.serverGroup, spec.preset, signal),
    ]);
    const boot = createFields({
      imageRef,
      networks: [...networks, ...nics],
      volume: spec.volume,
      configDrive: spec.configDrive,
    });
    const metadata = { ...spec.metadata, [META_IDEMPOTENCY]: key };
    const server = {
      name: spec.name,
      ...boot.fields,
      ...(flavorRef ? { flavorRef } : {}),
      metadata,
      ...(spec.keyName ? { key_name: spec.keyName } : {}),
      ...(spec.userdata ? { user_data: Buffer.from(spec.userdata, 'utf8').toString('base64') } : {}),
      ...(spec.network.availabilityZone ? { availability_zone: spec.network.availabilityZone } : {}),
      ...(spec.network.securityGroups.length > 0
        ? { security_groups: spec.network.securityGroups.map((name) => ({ name })) }
        : {}),
    };
    let res: HttpResponse;
    try {
      res = await this.send('compute', 'POST', '/servers', {
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

  releaseGroups(presets: readonly PresetPlacement[], options?: CallOptions): Promise<void> {
    return this.groups.release(presets, options?.signal);
  }

  /**
   * The account for infrastructure locks: the Keystone URL and the project (as the token names it once one
   * was issued: every disruption follows a listing, so by then it always is). Nova's `hostId` is a digest
   * of project and host, so hosts are told apart within a project only.
   */
  get lockAccount(): string {
    const a = this.creds.auth;
    const configured =
      a.method === 'password'
        ? (a.projectId ?? `${a.projectDomainId ?? a.projectDomainName ?? ''}/${a.projectName ?? ''}`)
        : `credential/${a.id ?? a.name ?? ''}`;
    return `${this.creds.authUrl.replace(/\/+$/, '')}|${this.session.projectId ?? configured}`;
  }

  async terminate(vmId: string, options?: CallOptions): Promise<void> {
    await this.send('compute', 'DELETE', `/servers/${enc(vmId)}`, { accept: [404], signal: options?.signal });
  }

  readonly capabilities = {
    stop: (id: string, o?: CallOptions) => this.action(id, { 'os-stop': null }, 'SHUTOFF', o?.signal),
    start: (id: string, o?: CallOptions) => this.action(id, { 'os-start': null }, 'ACTIVE', o?.signal),
    reboot: (id: string, o?: CallOptions) =>
      this.action(id, { reboot: { type: this.o.reboot_type } }, undefined, o?.signal),
    rebuild: (id: string, spec: VmSpec, o?: CallOptions) => this.rebuild(id, spec, o?.signal),
    resize: (id: string, spec: VmSpec, o?: CallOptions) => this.resize(id, spec, o?.signal),
    setSecurityGroups: (id: string, spec: VmSpec, o?: CallOptions) =>
      this.setSecurityGroups(id, spec, o?.signal),
    setMetadata: (id: string, spec: VmSpec, o?: CallOptions) =>
      this.send('compute', 'POST', `/servers/${enc(id)}/metadata`, {
        body: { metadata: spec.metadata },
        signal: o?.signal,
      }).then(() => undefined),
  };

  async close(): Promise<void> {
    await this.http.close();
  }

  // ----- verbs -----------------------------------------------------------------------------------------

  /** A server action; a 409 because the server is already where the action leads counts as done. */
  private async action(id: string, body: unknown, target: string | undefined, signal?: AbortSignal) {
    try {
      await this.send('compute', 'POST', `/servers/${enc(id)}/action`, { body, signal });
    } catch (err) {
      if (target && (isCode(err, 'openstack_compute_0003') || isCode(err, 'openstack_call_0002'))) {
        const s = await this.server(id, signal);
        if (s?.status === target) return;
      }
      throw err;
    }
  }

  /**
   * Re-images the server from the spec's image with its key pair and user data (2.57 applies both; null
   * removes them), then waits until Nova shows it settled on that image. Metadata is left as it is.
   */
  private async rebuild(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    const s = await this.mustServer(id, signal);
    const current = typeof s.image === 'object' && s.image ? s.image.id : undefined;
    const imageRef = spec.image ? await this.imageId(spec.image, signal) : current;
    if (!imageRef)
      throw new ShepherdError('openstack_resolve_0001', `server ${id} has no image to rebuild from`);
    const rebuild = {
      imageRef,
      key_name: spec.keyName ?? null,
      user_data: spec.userdata ? Buffer.from(spec.userdata, 'utf8').toString('base64') : null,
    };
    await this.send('compute', 'POST', `/servers/${enc(id)}/action`, {
      body: { rebuild },
      microversion: MV_REBUILD,
      signal,
    });
    const after = await this.settled(id, 'openstack_update_2001', 'rebuild', signal);
    const image = typeof after.image === 'object' && after.image ? after.image.id : undefined;
    if (image !== imageRef)
      throw new ShepherdError('openstack_update_2001', `server ${id}: image ${image} after the rebuild`);
  }

  /**
   * Resizes to the spec's flavor, confirms, and waits until the server is settled on it. A server found
   * waiting for its confirmation (VERIFY_RESIZE: e.g. the daemon stopped in between) is only confirmed.
   */
  private async resize(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    const s = await this.mustServer(id, signal);
    if (s.status !== 'VERIFY_RESIZE') {
      if (!spec.flavor) return;
      const flavorRef = await this.flavorId(spec.flavor, signal);
      if (this.onFlavor(s, flavorRef)) return;
      await this.send('compute', 'POST', `/servers/${enc(id)}/action`, {
        body: { resize: { flavorRef } },
        signal,
      });
      if (await this.awaitVerify(id, flavorRef, signal)) return;
    }
    await this.send('compute', 'POST', `/servers/${enc(id)}/action`, {
      body: { confirmResize: null },
      signal,
    });
    await this.settled(id, 'openstack_resize_2001', 'resize confirmation', signal);
  }

  private onFlavor(s: NovaServer, flavorRef: string): boolean {
    const name = this.flavors.peek().find((f) => f.id === flavorRef)?.name;
    return s.flavor?.id === flavorRef || (name !== undefined && s.flavor?.original_name === name);
  }

  /**
   * Waits for VERIFY_RESIZE (false: confirm it). A server back to ACTIVE with no task and the old flavor
   * means Nova gave the resize up (e.g. no host can take the flavor); with the new flavor, the cloud
   * confirmed it itself (true: nothing to confirm).
   */
  private async awaitVerify(id: string, flavorRef: string, signal?: AbortSignal): Promise<boolean> {
    const end = this.clock.now() + this.o.resize_timeout * 1000;
    while (this.clock.now() < end) {
      const s = await this.mustServer(id, signal);
      if (s.status === 'VERIFY_RESIZE') return false;
      if (s.status === 'ERROR')
        throw new ShepherdError('openstack_boot_2001', `resize of ${id}: ${s.fault?.message ?? 'ERROR'}`);
      if ((s.status === 'ACTIVE' || s.status === 'SHUTOFF') && !s['OS-EXT-STS:task_state']) {
        if (this.onFlavor(s, flavorRef)) return true;
        throw new ShepherdError(
          'openstack_resize_2001',
          `server ${id}: Nova gave the resize up (see \`openstack server event list ${id}\`)`,
        );
      }
      await this.clock.sleep(1000, signal);
    }
    throw new ShepherdError('openstack_resize_2001', `server ${id}: no VERIFY_RESIZE in time`);
  }

  /** Waits until the server is ACTIVE or SHUTOFF with no task in progress (within `resize_timeout`). */
  private async settled(
    id: string,
    code: 'openstack_resize_2001' | 'openstack_update_2001',
    what: string,
    signal?: AbortSignal,
  ): Promise<NovaServer> {
    const end = this.clock.now() + this.o.resize_timeout * 1000;
    for (;;) {
      const s = await this.mustServer(id, signal);
      if ((s.status === 'ACTIVE' || s.status === 'SHUTOFF') && !s['OS-EXT-STS:task_state']) return s;
      if (s.status === 'ERROR')
        throw new ShepherdError('openstack_boot_2001', `${what} of ${id}: ${s.fault?.message ?? 'ERROR'}`);
      if (this.clock.now() >= end)
        throw new ShepherdError(code, `server ${id}: still ${s.status} after the ${what}`);
      await this.clock.sleep(1000, signal);
    }
  }

  /**
   * Adds and removes security groups (Nova's addSecurityGroup/removeSecurityGroup, applied to every port)
   * until the server has the spec's, then checks that Nova shows exactly those. No groups in the spec
   * means the project's `default`, as at creation.
   */
  private async setSecurityGroups(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    const want = new Set(spec.network.securityGroups.length > 0 ? spec.network.securityGroups : ['default']);
    const groups = async () =>
      new Set((await this.mustServer(id, signal)).security_groups?.map((g) => g.name));
    const have = await groups();
    const action = (body: unknown) =>
      this.send('compute', 'POST', `/servers/${enc(id)}/action`, { body, signal });
    for (const name of want) if (!have.has(name)) await action({ addSecurityGroup: { name } });
    for (const name of have) if (!want.has(name)) await action({ removeSecurityGroup: { name } });
    const after = await groups();
    if (after.size !== want.size || [...want].some((g) => !after.has(g)))
      throw new ShepherdError(
        'openstack_update_2001',
        `server ${id}: security groups [${[...after].join(', ')}], asked [${[...want].join(', ')}]`,
      );
  }

  // ----- lookups -----------------------------------------------------------------------------------------

  private async findByKey(name: string, key: string, signal?: AbortSignal): Promise<Vm | undefined> {
    const servers = await this.servers({ name: `^${escapeRegex(name)}$` }, signal);
    const s = servers.find((x) => x.metadata?.[META_IDEMPOTENCY] === key);
    if (!s) return undefined;
    this.remember(key, s.id);
    return this.view(s);
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

  private view(s: NovaServer): Vm {
    return serverToVm(s, {
      image: (id) => this.images.peek().find((i) => i.id === id)?.name,
      flavor: (id) => this.flavors.peek().find((f) => f.id === id)?.name,
    });
  }

  private remember(key: string, id: string): void {
    this.byKey.set(key, id);
    if (this.byKey.size > KEYS_KEPT) {
      const oldest = this.byKey.keys().next().value;
      if (oldest !== undefined) this.byKey.delete(oldest);
    }
  }

  // ----- HTTP --------------------------------------------------------------------------------------------

  private async server(id: string, signal?: AbortSignal): Promise<NovaServer | null> {
    const res = await this.send('compute', 'GET', `/servers/${enc(id)}`, { accept: [404], signal });
    if (res.status === 404) return null;
    return (res.body as { server: NovaServer }).server;
  }

  private async mustServer(id: string, signal?: AbortSignal): Promise<NovaServer> {
    const s = await this.server(id, signal);
    if (!s) throw new ShepherdError('openstack_compute_0002', `server ${id}`);
    return s;
  }

  /**
   * Every server matching the query, page by page (`limit`/`marker`). While servers are being scheduled a
   * pass over the pages may not be known whole (see ServerPass); it is then taken again after a pause,
   * the passes merged (the latest view of each server winning), until one is. A listing that never
   * settles fails with `openstack_list_2001` rather than return a count that may be short (which would
   * make the daemon create servers that exist).
   */
  async servers(query: Record<string, string>, signal?: AbortSignal): Promise<NovaServer[]> {
    const merged = new Map<string, NovaServer>();
    for (let pass = 0; ; pass++) {
      const outcome = await this.serverPass(query, merged, signal);
      if (outcome === 'whole') return [...merged.values()];
      const pause = RELIST_PAUSES_MS[pass];
      if (pause === undefined) {
        throw new ShepherdError(
          'openstack_list_2001',
          `servers were still being scheduled after ${pass + 1} listings of ${outcome} pages`,
        );
      }
      await this.clock.sleep(pause, signal);
    }
  }

  /** One pass over the server pages into `into`: 'whole', or the number of pages of a pass not known whole. */
  private async serverPass(
    query: Record<string, string>,
    into: Map<string, NovaServer>,
    signal: AbortSignal | undefined,
  ): Promise<'whole' | number> {
    const pass = new ServerPass(this.o.page_size);
    let marker: string | undefined;
    for (let pages = 1; ; pages++) {
      checkPages(pages, 'GET compute /servers/detail');
      const { items, more } = await this.page<NovaServer>('compute', '/servers/detail', 'servers', signal, {
        ...query,
        ...(marker ? { marker } : {}),
      });
      for (const s of items) into.set(s.id, s);
      const step = pass.after(items, more);
      if ('whole' in step) return step.whole ? 'whole' : pages;
      marker = step.marker;
    }
  }

  /** Every item of a listing, once each (by id), following `limit`/`marker` while a `next` link says more follow. */
  private async pages<T extends { id: string }>(
    type: ServiceType,
    path: string,
    key: string,
    signal: AbortSignal | undefined,
  ): Promise<T[]> {
    const out = new Map<string, T>();
    let marker: string | undefined;
    for (let pages = 1; ; pages++) {
      checkPages(pages, `GET ${type} ${path}`);
      const { items, more } = await this.page<T>(type, path, key, signal, marker ? { marker } : {});
      for (const item of items) out.set(item.id, item);
      const last = items.at(-1);
      if (!last || !more) return [...out.values()];
      marker = last.id;
    }
  }

  /** One page of a listing, and whether the service says more follow (a `next` link). */
  private async page<T>(
    type: ServiceType,
    path: string,
    key: string,
    signal: AbortSignal | undefined,
    query: Record<string, string>,
  ): Promise<{ items: T[]; more: boolean }> {
    const q = new URLSearchParams({ ...query, limit: String(this.o.page_size) });
    const body = await this.json(type, 'GET', `${path}?${q}`, { signal, microversion: MV_READ });
    const links = (body[`${key}_links`] ?? []) as { rel?: string }[];
    return {
      items: listIn<T>(body, key, `GET ${type} ${path}`),
      more: Array.isArray(links) && links.some((l) => l?.rel === 'next'),
    };
  }

  /** Glance v2 pages: `next` is present while more images follow. */
  private async imagePages(signal?: AbortSignal): Promise<Image[]> {
    const out = new Map<string, Image>();
    let marker: string | undefined;
    for (let pages = 1; ; pages++) {
      checkPages(pages, 'GET image /images');
      const q = new URLSearchParams({ limit: String(this.o.page_size), ...(marker ? { marker } : {}) });
      const body = await this.json('image', 'GET', `/images?${q}`, { signal });
      const page = listIn<Image>(body, 'images', 'GET image /images');
      for (const item of page) out.set(item.id, item);
      const last = page.at(-1);
      if (!last || !body.next) break;
      marker = last.id;
    }
    return [...out.values()];
  }

  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several services, read field by field
  private async json(type: ServiceType, method: string, path: string, r: Request): Promise<any> {
    return (await this.send(type, method, path, r)).body ?? {};
  }

  private send(type: ServiceType, method: string, path: string, r: Request): Promise<HttpResponse> {
    const call = `${method} ${type} ${path.split('?')[0]}`;
    return this.session.request(
      type,
      (base, token) => ({
        method,
        url: `${base}${path}`,
        call,
        headers: {
          'x-auth-token': token,
          ...(type === 'compute'
            ? {
                'openstack-api-version': `compute ${r.microversion ?? MV_READ}`,
                'x-openstack-nova-api-version': r.microversion ?? MV_READ,
              }
            : {}),
        },
        ...(r.body !== undefined ? { body: r.body } : {}),
        ...(r.accept ? { accept: r.accept } : {}),
        ...(r.signal ? { signal: r.signal } : {}),
      }),
      r.signal,
    );
  }
}

const enc = encodeURIComponent;

/** The most pages one listing follows (1000 pages of `page_size`): a `next` link never leads on forever. */
export const MAX_LIST_PAGES = 1000;

function checkPages(pages: number, call: string): void {
  if (pages > MAX_LIST_PAGES)
    throw new ShepherdError('openstack_answer_2002', `${call}: more than ${MAX_LIST_PAGES} pages`);
}

/**
 * The list under `key` of a listing's answer, or an error: an answer without it is not an empty listing
 * (read as one, every preset of the account would look empty and the loop would create its VMs again).
 */
export function listIn<T>(body: unknown, key: string, call: string): T[] {
  const list = (body as Record<string, unknown> | null)?.[key];
  if (Array.isArray(list)) return list as T[];
  throw new ShepherdError('openstack_answer_2001', `${call}: the answer has no '${key}' list`);
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
