import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cursorOf, pageOf } from '../../src/api/preset-page.js';
import { presetPage } from '../../src/api/schemas.js';
import { etagMatches, negotiateEncoding } from '../../src/http/representation.js';
import {
  type ApiFixture,
  apiFixture,
  bearer,
  OPERATE_TOKEN,
  READ_TOKEN,
  settings,
  tokensBlock,
} from '../helpers/api.js';
import { taskEnded } from '../helpers/daemon.js';

/** 25 presets, names chosen so that name order differs from creation order. */
const NAMES = Array.from({ length: 25 }, (_, i) => `p${(i * 7) % 25}`);
const PRESETS = Object.fromEntries(
  NAMES.map((n) => [`${n}.conf`, `name: ${n}\ncount: 0\nimage: img-1\nmanage_interval: 60\n`]),
);
PRESETS['p3.conf'] += 'userdata: "#cloud-config"\n';
const SORTED = [...NAMES].sort((a, b) => a.localeCompare(b));

const BROWSER = 'gzip, deflate, br';

describe('the preset list: pages, conditional requests, compression', () => {
  let f: ApiFixture;
  const get = (url: string, headers: Record<string, string> = {}, token = READ_TOKEN) =>
    f.app.inject({ method: 'GET', url, headers: { ...bearer(token), ...headers } });

  /** Follows `next` from the first page; returns the pages' names. */
  const follow = async (url: string) => {
    const pages: string[][] = [];
    let next: string | null = null;
    do {
      const sep = url.includes('?') ? '&' : '?';
      const res = await get(next === null ? url : `${url}${sep}cursor=${encodeURIComponent(next)}`);
      expect(res.statusCode).toBe(200);
      const page = presetPage.parse(res.json());
      pages.push(page.items.map((p) => p.name));
      next = page.next;
    } while (next !== null && pages.length < 50);
    return pages;
  };

  beforeAll(async () => {
    f = await apiFixture(settings(tokensBlock()), PRESETS);
    await f.daemon.refreshPresets();
  });
  afterAll(() => f?.close());

  it('pages cover every preset exactly once, in name order, and the last page has no next', async () => {
    const pages = await follow('/api/v1/presets?limit=7');
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 4]);
    expect(pages.flat()).toEqual(SORTED);
    // The default page (100) holds them all; the filter pages too, over its own matches only.
    const all = presetPage.parse((await get('/api/v1/presets')).json());
    expect(all).toMatchObject({ total: 25, next: null });
    expect(all.items.map((p) => p.name)).toEqual(SORTED);
    const filtered = await follow('/api/v1/presets?q=p1&limit=4');
    expect(filtered.flat()).toEqual(SORTED.filter((n) => n.startsWith('p1')));
    expect(filtered.length).toBe(3); // p1, p10..p19: 11 names
  });

  it('refuses bad page parameters with api_page_0001 and says how to fix them', async () => {
    for (const url of [
      '/api/v1/presets?limit=0',
      '/api/v1/presets?limit=1001',
      '/api/v1/presets?limit=ten',
      '/api/v1/presets?limit=2.5',
      '/api/v1/presets?cursor=not%20a%20cursor',
      `/api/v1/presets?cursor=${Buffer.from('{"x":1}').toString('base64url')}`,
    ]) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().error.code, url).toBe('api_page_0001');
      expect(res.json().error.fix, url).toContain('1 to 1000');
    }
    expect((await get('/api/v1/presets?limit=1000')).statusCode).toBe(200);
    expect((await get('/api/v1/presets?page=2')).json().error.code).toBe('api_request_0001');
  });

  it('keeps a page boundary when a preset is added or removed between two pages', () => {
    const list = SORTED.map((name) => ({ name }));
    const first = pageOf(list, 5, undefined);
    expect(first.next).toBe(cursorOf(SORTED[4] as string));
    const removed = list.filter((p) => p.name !== SORTED[2] && p.name !== SORTED[4]);
    expect(pageOf(removed, 5, first.next ?? undefined).items).toEqual(list.slice(5, 10));
    const added = [...list, { name: 'p1a' }].sort((a, b) => a.name.localeCompare(b.name));
    expect(pageOf(added, 100, first.next ?? undefined).items.map((p) => p.name)).not.toContain(SORTED[3]);
  });

  it('keeps the JSON-RPC list_presets whole (the original has no pages)', async () => {
    const res = await f.app.inject({
      method: 'POST',
      url: '/api',
      headers: bearer(READ_TOKEN),
      payload: { jsonrpc: '2.0', method: 'list_presets', id: 1 },
    });
    expect([...res.json().result].sort()).toEqual([...NAMES].sort());
  });

  it('answers 304 to If-None-Match with the current strong ETag, and 200 once the preset changed', async () => {
    for (const url of ['/api/v1/presets?limit=10', '/api/v1/presets/p3', '/api/v1/presets/p3/vms']) {
      const first = await get(url);
      const etag = first.headers.etag as string;
      expect(etag, url).toMatch(/^"[\w-]+"$/); // strong: no W/
      expect(first.headers['cache-control'], url).toBe('private, no-cache');
      const again = await get(url, { 'if-none-match': etag });
      expect(again.statusCode, url).toBe(304);
      expect(again.body, url).toBe('');
      expect(again.headers.etag, url).toBe(etag);
      expect((await get(url, { 'if-none-match': `"other", W/${etag}` })).statusCode, url).toBe(304);
      expect((await get(url, { 'if-none-match': '"other"' })).statusCode, url).toBe(200);
    }
    const before = (await get('/api/v1/presets/p3')).headers.etag as string;
    const paused = await f.app.inject({
      method: 'POST',
      url: '/api/v1/presets/p3/pause',
      headers: bearer(OPERATE_TOKEN),
    });
    expect(paused.statusCode).toBe(202);
    await taskEnded(f.daemon, paused.json().id);
    const after = await get('/api/v1/presets/p3', { 'if-none-match': before });
    expect(after.statusCode).toBe(200);
    expect(after.json().paused).toBe(true);
    expect(after.headers.etag).not.toBe(before);
    // What only an operator sees (userdata) may be validated but no cache keeps it.
    expect((await get('/api/v1/presets/p3', {}, OPERATE_TOKEN)).headers['cache-control']).toBe('no-store');
  });

  it('compresses lists for clients that accept it, with a tag per coding, and not for those that do not', async () => {
    const url = '/api/v1/presets?limit=25';
    const plain = await get(url);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers.vary).toBe('Accept-Encoding');
    const gz = await get(url, { 'accept-encoding': 'gzip' });
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.rawPayload).toString()).toBe(plain.body);
    expect(gz.rawPayload.length).toBeLessThan(plain.rawPayload.length / 3);
    const br = await get(url, { 'accept-encoding': BROWSER });
    expect(br.headers['content-encoding']).toBe('br');
    expect(brotliDecompressSync(br.rawPayload).toString()).toBe(plain.body);
    const tags = new Set([plain.headers.etag, gz.headers.etag, br.headers.etag]);
    expect(tags.size).toBe(3);
    expect(
      (await get(url, { 'accept-encoding': BROWSER, 'if-none-match': br.headers.etag as string })).statusCode,
    ).toBe(304);
    const refused = await get(url, { 'accept-encoding': 'br;q=0, gzip;q=0' });
    expect(refused.headers['content-encoding']).toBeUndefined();
    // A body under 1 KB is not worth compressing.
    const small = await get('/api/v1/presets?limit=1', { 'accept-encoding': BROWSER });
    expect(small.headers['content-encoding']).toBeUndefined();
  });

  it('serves the panel list compressed to a browser, and 304 when it holds the page', async () => {
    const page = await get('/', { 'accept-encoding': BROWSER });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-encoding']).toBe('br');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(brotliDecompressSync(page.rawPayload).toString()).toContain('<table class="grid presets"');
    const again = await get('/', {
      'accept-encoding': BROWSER,
      'if-none-match': page.headers.etag as string,
    });
    expect(again.statusCode).toBe(304);
    const operatorPreset = await get('/presets/p3', { 'accept-encoding': BROWSER }, OPERATE_TOKEN);
    expect(operatorPreset.headers['cache-control']).toBe('no-store');
  });

  it('negotiates codings and compares tags as HTTP says', () => {
    expect(negotiateEncoding(undefined)).toBe('identity');
    expect(negotiateEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(negotiateEncoding('gzip;q=1.0, br;q=0')).toBe('gzip');
    expect(negotiateEncoding('*')).toBe('br');
    expect(negotiateEncoding('*;q=0, identity')).toBe('identity');
    expect(negotiateEncoding('deflate')).toBe('identity');
    expect(etagMatches('*', '"a"')).toBe(true);
    expect(etagMatches('"b", W/"a"', '"a"')).toBe(true);
    expect(etagMatches('"a-br"', '"a"')).toBe(false);
    expect(etagMatches(undefined, '"a"')).toBe(false);
  });

  it('documents the page parameters and the page shape in the OpenAPI document', async () => {
    const doc = (await get('/api/v1/openapi.json')).json();
    const op = doc.paths['/api/v1/presets'].get;
    const limit = op.parameters.find((p: { name: string }) => p.name === 'limit');
    expect(limit.schema).toMatchObject({ minimum: 1, maximum: 1000, default: 100 });
    expect(op.parameters.map((p: { name: string }) => p.name)).toEqual(['q', 'phase', 'limit', 'cursor']);
    const schema = op.responses['200'].content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(['items', 'total', 'next']);
  });
});
