import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import type { HttpResponse } from './http.js';
import type { KeystoneSession, ServiceType } from './keystone.js';
import { ServerPass } from './listing-pass.js';
import type { NovaServer } from './server-view.js';

/** Read calls use 2.47 (flavor embedded in the server, extended attributes from 2.3 on). */
export const MV_READ = '2.47';
/** Pauses before listing again while servers are being scheduled: about 4 s in all, as long as one takes. */
const RELIST_PAUSES_MS = [250, 500, 1000, 1000, 1000];

/** One call: its body, Nova microversion, statuses taken as answers (e.g. 404), and its abort signal. */
export interface ApiRequest {
  body?: unknown;
  microversion?: string;
  accept?: readonly number[];
  signal?: AbortSignal | undefined;
}

export const enc = encodeURIComponent;

/**
 * The calls of one OpenStack project through its Keystone session: single requests, servers by id, and
 * listings followed page by page (`limit`/`marker`).
 */
export class OpenStackApi {
  constructor(
    private readonly session: KeystoneSession,
    private readonly pageSize: number,
    private readonly clock: Clock,
  ) {}

  async server(id: string, signal?: AbortSignal): Promise<NovaServer | null> {
    const res = await this.send('compute', 'GET', `/servers/${enc(id)}`, { accept: [404], signal });
    if (res.status === 404) return null;
    return (res.body as { server: NovaServer }).server;
  }

  async mustServer(id: string, signal?: AbortSignal): Promise<NovaServer> {
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
    const pass = new ServerPass(this.pageSize);
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
  async pages<T extends { id: string }>(
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
    const q = new URLSearchParams({ ...query, limit: String(this.pageSize) });
    const body = await this.json(type, 'GET', `${path}?${q}`, { signal, microversion: MV_READ });
    const links = (body[`${key}_links`] ?? []) as { rel?: string }[];
    return {
      items: listIn<T>(body, key, `GET ${type} ${path}`),
      more: Array.isArray(links) && links.some((l) => l?.rel === 'next'),
    };
  }

  /** Glance v2 pages: `next` is present while more images follow. */
  async imagePages<T extends { id: string }>(signal?: AbortSignal): Promise<T[]> {
    const out = new Map<string, T>();
    let marker: string | undefined;
    for (let pages = 1; ; pages++) {
      checkPages(pages, 'GET image /images');
      const q = new URLSearchParams({ limit: String(this.pageSize), ...(marker ? { marker } : {}) });
      const body = await this.json('image', 'GET', `/images?${q}`, { signal });
      const page = listIn<T>(body, 'images', 'GET image /images');
      for (const item of page) out.set(item.id, item);
      const last = page.at(-1);
      if (!last || !body.next) break;
      marker = last.id;
    }
    return [...out.values()];
  }

  // biome-ignore lint/suspicious/noExplicitAny: JSON bodies of several services, read field by field
  async json(type: ServiceType, method: string, path: string, r: ApiRequest): Promise<any> {
    return (await this.send(type, method, path, r)).body ?? {};
  }

  send(type: ServiceType, method: string, path: string, r: ApiRequest): Promise<HttpResponse> {
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
