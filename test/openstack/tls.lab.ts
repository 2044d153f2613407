import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ShepherdError } from '../../src/errors/shepherd-error.js';
import { demoVia, labCloud, labFile } from './lab.js';

/**
 * Keystone behind TLS: a TLS front on 127.0.0.1 with a certificate made for this run, passing each
 * connection on to the lab's Keystone. The catalog's endpoints stay plain HTTP, so what is tried here is
 * the driver's TLS settings on the one endpoint it is given.
 */
const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-tls-'));
const cert = join(dir, 'cert.pem');
const key = join(dir, 'key.pem');
let front: Server;
let authUrl = '';
const plain = labFile('demo');

beforeAll(async () => {
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
      ...['-keyout', key, '-out', cert, '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
    ],
    { stdio: 'ignore' },
  );
  // The plain-HTTP Keystone and region, also when the suite runs over the TLS region: the front is the TLS.
  const keystone = new URL(plain.OS_AUTH_URL ?? 'http://127.0.0.1:5000/v3');
  front = createServer({ key: readFileSync(key), cert: readFileSync(cert) }, (socket) => {
    const upstream = connect(Number(keystone.port), keystone.hostname);
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const { port } = front.address() as { port: number };
  authUrl = `https://127.0.0.1:${port}${keystone.pathname}`;
});
afterAll(async () => {
  await new Promise((resolve) => front?.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

/** The demo project's credentials, with the TLS front as auth_url. */
function tlsCloud(options: Record<string, unknown>) {
  return labCloud('demo', demoVia(authUrl, { region_name: plain.OS_REGION_NAME, ...options }));
}

describe('OpenStackDriver over TLS', () => {
  it('trusts the certificate of `cacert` and lists', async () => {
    const c = tlsCloud({ cacert: cert });
    try {
      expect(Array.isArray(await c.list('tls-none'))).toBe(true);
    } finally {
      await c.close();
    }
  });

  it('refuses an untrusted certificate with its own code, and accepts it only when insecure', async () => {
    const strict = tlsCloud({});
    const err = (await strict.list('tls-none').catch((e: unknown) => e)) as ShepherdError;
    await strict.close();
    expect(err.code).toBe('openstack_tls_0001');
    expect(err.message).toMatch(/self-signed|certificate/i);
    const insecure = tlsCloud({ insecure: true });
    try {
      expect(Array.isArray(await insecure.list('tls-none'))).toBe(true);
    } finally {
      await insecure.close();
    }
  });
});
