import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent, fetch } from 'undici';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { specFor } from '../../src/testing/iaas-contract.js';
import { demo, demoVia, emptyProject, FLAVOR, IMAGE, labCloud } from './lab.js';

/**
 * A create whose answer never reaches the driver: Nova creates the server, but a front on Nova holds the
 * answer past the driver's `http_timeout`. A front on Keystone points the token's compute endpoint at it.
 * Both pass everything else through to the lab unchanged.
 */
// Well past http_timeout: the hold must outlast the timeout also when the TLS region is slow to answer.
const HOLD_MS = 5000;
const created: string[] = [];
let abandoned = 0;
/** The held answers, settled once each is written or found abandoned. */
const holds: Promise<void>[] = [];
const fronts: Server[] = [];

/** Over the TLS region the fronts talk https to the lab, trusting its CA. */
const upstream = new Agent(demo.OS_CACERT ? { connect: { ca: readFileSync(demo.OS_CACERT, 'utf8') } } : {});

async function forward(req: IncomingMessage, target: string) {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers))
    if (typeof v === 'string' && !['host', 'connection', 'content-length'].includes(k)) headers[k] = v;
  const res = await fetch(`${target}${req.url}`, {
    method: req.method ?? 'GET',
    headers,
    ...(chunks.length ? { body: Buffer.concat(chunks) } : {}),
    dispatcher: upstream,
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

function reply(res: ServerResponse, r: { status: number; headers: Headers; text: string }) {
  const headers: Record<string, string> = {};
  r.headers.forEach((v, k) => {
    if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k))
      headers[k] = v;
  });
  res.writeHead(r.status, headers).end(r.text);
}

async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<string> {
  const server = createServer((req, res) => {
    handler(req, res).catch(() => res.destroy());
  });
  fronts.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}

let authUrl = '';
beforeAll(async () => {
  const keystone = new URL(demo.OS_AUTH_URL ?? 'http://127.0.0.1:5000/v3');
  let novaOrigin = '';
  const novaFront = await listen(async (req, res) => {
    let gone = false;
    res.on('close', () => {
      gone = !res.writableEnded;
    });
    const r = await forward(req, novaOrigin);
    if (req.method === 'POST' && /\/servers$/.test(req.url ?? '') && r.status === 202) {
      created.push((JSON.parse(r.text) as { server: { id: string } }).server.id);
      const hold = new Promise<void>((resolve) => setTimeout(resolve, HOLD_MS)).then(() => {
        if (gone) abandoned++;
      });
      holds.push(hold);
      await hold;
    }
    reply(res, r);
  });
  const keystoneFront = await listen(async (req, res) => {
    const r = await forward(req, keystone.origin);
    if (req.method === 'POST' && req.url?.endsWith('/auth/tokens') && r.status === 201) {
      const body = JSON.parse(r.text) as {
        token: {
          catalog?: {
            type: string;
            endpoints: { url: string; interface: string; region?: string; region_id?: string }[];
          }[];
        };
      };
      // Only the endpoint the driver takes (its region's public one) goes through the front: the
      // catalog lists Nova in other regions too (the lab's RegionTLS, over https).
      for (const entry of body.token.catalog ?? []) {
        if (entry.type !== 'compute') continue;
        for (const ep of entry.endpoints) {
          if (ep.interface !== 'public' || (ep.region_id ?? ep.region) !== demo.OS_REGION_NAME) continue;
          const url = new URL(ep.url);
          novaOrigin = url.origin;
          ep.url = `${novaFront}${url.pathname}`;
        }
      }
      if (!novaOrigin) throw new Error(`no public compute endpoint in region ${demo.OS_REGION_NAME}`);
      r.text = JSON.stringify(body);
    }
    reply(res, r);
  });
  authUrl = `${keystoneFront}${keystone.pathname}`;
  await emptyProject(labCloud('demo'));
});
afterAll(async () => {
  await emptyProject(labCloud('demo'));
  await Promise.all(fronts.map((s) => new Promise((resolve) => s.close(resolve))));
  await upstream.close();
});

it('finds a create that timed out by its idempotency key instead of creating again', async () => {
  const c = labCloud('demo', demoVia(authUrl, { http_timeout: 2 }));
  try {
    const preset = `ambiguous-${process.pid}`;
    const vm = await c.create(specFor(preset, { image: IMAGE, flavor: FLAVOR }), { idempotencyKey: 'a1' });
    await Promise.all(holds);
    expect(abandoned).toBe(1); // the driver did give up on the answer
    expect(created).toEqual([vm.id]); // what it returned is the server Nova made
    expect(c.http.counts.get('POST compute')).toBe(1); // and it did not post again
    // Asked again with the same key (the daemon's retry), it answers the same server.
    expect(
      (await c.create(specFor(preset, { image: IMAGE, flavor: FLAVOR }), { idempotencyKey: 'a1' })).id,
    ).toBe(vm.id);
    expect((await c.list(preset)).map((v) => v.id)).toEqual([vm.id]);
    expect(created).toHaveLength(1);
  } finally {
    await c.close();
  }
});
