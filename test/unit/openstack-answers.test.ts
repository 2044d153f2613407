import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Credentials } from '../../src/drivers/iaas/openstack/credentials.js';
import { MAX_ANSWER_BYTES } from '../../src/drivers/iaas/openstack/http.js';
import { MAX_LIST_PAGES, OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import { openStackOptionsSchema } from '../../src/drivers/iaas/openstack/options.js';
import { systemClock } from '../../src/util/clock.js';

/**
 * A broken cloud: a real HTTP server whose Keystone gives a token and whose Nova answers the server listing
 * with `servers` (a proxy's page, a body cut short, a `next` link that never ends...).
 */
async function brokenCloud(servers: (req: IncomingMessage, res: ServerResponse) => void) {
  let listings = 0;
  const server: Server = createServer((req, res) => {
    if (req.method === 'POST' && req.url === '/v3/auth/tokens') {
      req.resume();
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      res.writeHead(201, { 'content-type': 'application/json', 'x-subject-token': 'tok' });
      res.end(
        JSON.stringify({
          token: {
            expires_at: new Date(Date.now() + 3_600_000).toISOString(),
            project: { id: 'p1' },
            catalog: [{ type: 'compute', endpoints: [{ interface: 'public', url: `${base}/compute` }] }],
          },
        }),
      );
      return;
    }
    if (req.url?.startsWith('/compute/servers/detail')) {
      listings++;
      servers(req, res);
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const creds: Credentials = {
    authUrl: `http://127.0.0.1:${port}/v3`,
    auth: { method: 'password', username: 'u', password: 'p', projectName: 'p' },
    interface: 'public',
    insecure: false,
    source: 'test',
  };
  const cloud = new OpenStackCloud(creds, openStackOptionsSchema.parse({}), systemClock);
  return {
    cloud,
    listings: () => listings,
    close: async () => {
      await cloud.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

const server = (id: string) => ({ id, name: id, status: 'ACTIVE', metadata: {}, addresses: {} });

describe('a broken OpenStack answer (docs/security.md, cloud row)', () => {
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) await c();
  });
  const open = async (answer: (req: IncomingMessage, res: ServerResponse) => void) => {
    const c = await brokenCloud(answer);
    closers.push(c.close);
    return c;
  };

  it('is an error, never an empty listing, when a 200 is not JSON', async () => {
    const { cloud } = await open((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<html><body>Service temporarily in maintenance</body></html>');
    });
    await expect(cloud.listAll()).rejects.toMatchObject({ code: 'openstack_answer_2001' });
  });

  it('is an error, never an empty listing, when the JSON has no servers list', async () => {
    const { cloud } = await open((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"error": "upstream unavailable"}');
    });
    await expect(cloud.listAll()).rejects.toMatchObject({ code: 'openstack_answer_2001' });
  });

  it('still reads a listing that is whole', async () => {
    const { cloud } = await open((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ servers: [server('a'), server('b')] }));
    });
    expect((await cloud.listAll()).map((vm) => vm.id)).toEqual(['a', 'b']);
  });

  it(`stops following next links after ${MAX_LIST_PAGES} pages`, async () => {
    let n = 0;
    const c = await open((_req, res) => {
      n++;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ servers: [server(`s${n}`)], servers_links: [{ rel: 'next', href: 'x' }] }));
    });
    await expect(c.cloud.listAll()).rejects.toMatchObject({ code: 'openstack_answer_2002' });
    expect(c.listings()).toBe(MAX_LIST_PAGES);
  });

  it('stops reading an answer past its size limit', async () => {
    const { cloud } = await open((_req, res) => {
      // No Content-Length: the limit applies as the body arrives.
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(1024 * 1024, 0x20);
      res.write('{"servers": [');
      let sent = 0;
      const more = () => {
        while (sent <= MAX_ANSWER_BYTES + chunk.length) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', more);
        }
        res.end(']}');
      };
      res.on('error', () => {});
      more();
    });
    await expect(cloud.listAll()).rejects.toMatchObject({ code: 'openstack_answer_2002' });
  });

  it('refuses an answer whose Content-Length is past the limit without reading it', async () => {
    const { cloud } = await open((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': MAX_ANSWER_BYTES + 1 });
      res.write('{"servers": [');
      // The rest never comes: the client must not wait for it.
    });
    await expect(cloud.listAll()).rejects.toMatchObject({ code: 'openstack_answer_2002' });
  });
});
