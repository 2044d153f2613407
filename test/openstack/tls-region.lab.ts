import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { resolveCredentials } from '../../src/drivers/iaas/openstack/credentials.js';
import { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import { openStackOptionsSchema } from '../../src/drivers/iaas/openstack/options.js';
import type { ShepherdError } from '../../src/errors/shepherd-error.js';
import { systemClock } from '../../src/util/clock.js';
import { labFile } from './lab.js';

/**
 * The lab's TLS region (`RegionTLS`: nginx in front of every service, certificates of the lab's own CA),
 * reached the three ways an operator gives the CA: OS_CACERT, `cacert` in clouds.yaml, `cacert` in the
 * driver block. `insecure` is false unless set, so a CA that did not sign the certificate fails, naming
 * the endpoint.
 */
const tls = labFile('tls');
const plain = labFile('demo');
const CA = tls.OS_CACERT ?? '';
const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-tls-region-'));
const clouds: OpenStackCloud[] = [];
afterAll(async () => {
  await Promise.all(clouds.map((c) => c.close()));
  rmSync(dir, { recursive: true, force: true });
});

/** A driver from these options, the rest from `env` and the files on disk, as the daemon resolves them. */
function cloudOf(options: Record<string, unknown>, env: Record<string, string> = {}): OpenStackCloud {
  const o = openStackOptionsSchema.parse(options);
  const creds = resolveCredentials(o, {
    env,
    resolvePath: (p) => p,
    readFile: (p) => (existsSync(p) ? readFileSync(p, 'utf8') : undefined),
  });
  const c = new OpenStackCloud(creds, o, systemClock);
  clouds.push(c);
  return c;
}

const identity = (e: Record<string, string>) => ({
  username: e.OS_USERNAME,
  password: e.OS_PASSWORD,
  project_name: e.OS_PROJECT_NAME,
  user_domain_name: e.OS_USER_DOMAIN_NAME,
  project_domain_name: e.OS_PROJECT_DOMAIN_NAME,
});

/** Lists the project and checks that every service was reached over https. */
async function listsOverHttps(c: OpenStackCloud): Promise<void> {
  expect(Array.isArray(await c.list('tls-region-none'))).toBe(true);
  expect(await c.flavorId('m1.tiny')).toBeTruthy();
  const token = await c.session.token();
  for (const type of ['compute', 'image', 'network'] as const)
    expect(c.session.endpoint(token, type)).toMatch(/^https:\/\/127\.0\.0\.1:13\d{3}\//);
}

/** A CA of its own, which signed nothing the lab serves. */
function otherCa(): string {
  const cert = join(dir, 'other-ca.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1'],
      ...['-keyout', join(dir, 'other-key.pem'), '-out', cert, '-subj', '/CN=not the lab CA'],
    ],
    { stdio: 'ignore' },
  );
  return cert;
}

describe('OpenStackDriver on the TLS region', () => {
  it('takes the CA from OS_CACERT (the OS_* route of tls.env)', async () => {
    await listsOverHttps(cloudOf({}, tls));
  });

  it('takes the CA from `cacert` of a clouds.yaml entry', async () => {
    const file = join(dir, 'clouds.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        clouds: {
          lab_tls: {
            auth: { auth_url: tls.OS_AUTH_URL, ...identity(tls) },
            region_name: tls.OS_REGION_NAME,
            cacert: CA,
          },
        },
      }),
    );
    await listsOverHttps(cloudOf({ cloud: 'lab_tls', clouds_file: file }));
  });

  it('takes the CA from `cacert` in the driver block', async () => {
    await listsOverHttps(
      cloudOf({ auth_url: tls.OS_AUTH_URL, region_name: tls.OS_REGION_NAME, cacert: CA, ...identity(tls) }),
    );
  });

  it('refuses a CA that did not sign the certificate, naming the endpoint', async () => {
    const c = cloudOf({
      auth_url: tls.OS_AUTH_URL,
      region_name: tls.OS_REGION_NAME,
      cacert: otherCa(),
      ...identity(tls),
    });
    const err = (await c.list('tls-region-none').catch((e: unknown) => e)) as ShepherdError;
    expect(err.code).toBe('openstack_tls_0001');
    expect(err.message).toContain(new URL(tls.OS_AUTH_URL ?? '').origin);
    expect(err.message).not.toContain(tls.OS_PASSWORD ?? '');
  });

  it('checks certificates unless told not to: a service of the catalog without the CA fails, naming it', async () => {
    // Keystone over plain HTTP, the services of RegionTLS over https, no CA given: Nova's endpoint fails.
    const c = cloudOf({ auth_url: plain.OS_AUTH_URL, region_name: tls.OS_REGION_NAME, ...identity(plain) });
    const err = (await c.list('tls-region-none').catch((e: unknown) => e)) as ShepherdError;
    expect(err.code).toBe('openstack_tls_0001');
    expect(err.message).toMatch(/GET compute \/servers\/detail at https:\/\/127\.0\.0\.1:13774/);
  });
});
