import type { Clock } from '../../../util/clock.js';
import { NextFlight } from '../../../util/next-flight.js';
import {
  type CallOptions,
  type CreateOptions,
  type IaasDriver,
  META_PRESET,
  type PresetPlacement,
  type Vm,
  type VmSpec,
} from '../../types.js';
import { ServerCreator } from './create-server.js';
import type { Credentials } from './credentials.js';
import { HttpClient } from './http.js';
import { KeystoneSession } from './keystone.js';
import { enc, OpenStackApi } from './openstack-api.js';
import type { OpenStackOptions } from './options.js';
import { Resolver } from './resolver.js';
import { ServerGroups } from './server-groups.js';
import { ServerVerbs } from './server-verbs.js';
import { type NovaServer, serverToVm } from './server-view.js';

// What the tests and callers took from this file before it was split.
export { listIn, MAX_LIST_PAGES } from './openstack-api.js';
export { chooseImage, type Image } from './resolver.js';

/** Server groups with `policy` as one string (2.64). */
const MV_GROUPS = '2.64';

/**
 * One OpenStack project as an IaaS driver: Nova for servers, Glance for images, Neutron for networks,
 * Keystone for the token and the catalog. Membership is by metadata (never by name), listings follow
 * `limit`/`marker` pages (openstack-api.ts), names are resolved through cached listings (resolver.ts),
 * creates are idempotent (create-server.ts) and the verbs wait for Nova (server-verbs.ts).
 */
export class OpenStackCloud implements IaasDriver {
  readonly http: HttpClient;
  readonly session: KeystoneSession;
  private readonly api: OpenStackApi;
  private readonly resolver: Resolver;
  private readonly groups: ServerGroups;
  private readonly creator: ServerCreator;
  private readonly verbs: ServerVerbs;
  /**
   * Project listings: Nova cannot filter by metadata, so a preset's listing is the whole project's. When
   * many are asked for at once (every preset of a project, after the account listing failed), those that
   * arrive while one is in flight share the next instead of each making its own.
   */
  private readonly listings = new NextFlight(async () => (await this.servers({})).map((s) => this.view(s)));

  constructor(
    private readonly creds: Credentials,
    private readonly o: OpenStackOptions,
    clock: Clock,
  ) {
    this.http = new HttpClient({
      timeoutMs: o.http_timeout * 1000,
      insecure: creds.insecure,
      ...(creds.cacert ? { cacert: creds.cacert } : {}),
    });
    this.session = new KeystoneSession(creds, this.http, clock);
    const api = new OpenStackApi(this.session, o.page_size, clock);
    this.api = api;
    this.resolver = new Resolver(api, o, clock);
    this.groups = new ServerGroups(
      (method, path, body, signal) =>
        api.json('compute', method, path, {
          body,
          microversion: MV_GROUPS,
          signal,
          ...(method === 'DELETE' ? { accept: [404] } : {}),
        }),
      clock,
      o.cache_ttl * 1000,
    );
    this.creator = new ServerCreator(api, this.resolver, this.groups, clock, (s) => this.view(s));
    this.verbs = new ServerVerbs(api, this.resolver, o, clock);
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
    const s = await this.api.server(vmId, options?.signal);
    return s ? this.view(s) : null;
  }

  create(spec: VmSpec, options: CreateOptions): Promise<Vm> {
    return this.creator.create(spec, options);
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
    await this.api.send('compute', 'DELETE', `/servers/${enc(vmId)}`, {
      accept: [404],
      signal: options?.signal,
    });
  }

  readonly capabilities = {
    stop: (id: string, o?: CallOptions) => this.verbs.action(id, { 'os-stop': null }, 'SHUTOFF', o?.signal),
    start: (id: string, o?: CallOptions) => this.verbs.action(id, { 'os-start': null }, 'ACTIVE', o?.signal),
    reboot: (id: string, o?: CallOptions) =>
      this.verbs.action(id, { reboot: { type: this.o.reboot_type } }, undefined, o?.signal),
    rebuild: (id: string, spec: VmSpec, o?: CallOptions) => this.verbs.rebuild(id, spec, o?.signal),
    resize: (id: string, spec: VmSpec, o?: CallOptions) => this.verbs.resize(id, spec, o?.signal),
    setSecurityGroups: (id: string, spec: VmSpec, o?: CallOptions) =>
      this.verbs.setSecurityGroups(id, spec, o?.signal),
    setMetadata: (id: string, spec: VmSpec, o?: CallOptions) => this.verbs.setMetadata(id, spec, o?.signal),
  };

  async close(): Promise<void> {
    await this.http.close();
  }

  // ----- lookups (also used by the lab tests) --------------------------------------------------------------

  /** Every server matching the query (see OpenStackApi.servers). */
  servers(query: Record<string, string>, signal?: AbortSignal): Promise<NovaServer[]> {
    return this.api.servers(query, signal);
  }

  flavorId(ref: string, signal?: AbortSignal): Promise<string> {
    return this.resolver.flavorId(ref, signal);
  }

  imageId(ref: string, signal?: AbortSignal): Promise<string> {
    return this.resolver.imageId(ref, signal);
  }

  networkRefs(refs: readonly string[], signal?: AbortSignal): Promise<{ uuid: string }[]> {
    return this.resolver.networkRefs(refs, signal);
  }

  networkId(ref: string, signal?: AbortSignal): Promise<string> {
    return this.resolver.networkId(ref, signal);
  }

  private view(s: NovaServer): Vm {
    return serverToVm(s, {
      image: (id) => this.resolver.imageName(id),
      flavor: (id) => this.resolver.flavorName(id),
    });
  }
}
