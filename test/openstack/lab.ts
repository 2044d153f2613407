import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent, fetch } from 'undici';
import { afterEach } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { resolveCredentials } from '../../src/drivers/iaas/openstack/credentials.js';
import { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import { openStackOptionsSchema } from '../../src/drivers/iaas/openstack/options.js';
import { type NovaServer, stateOf } from '../../src/drivers/iaas/openstack/server-view.js';
import { META_PRESET } from '../../src/drivers/types.js';
import { type Clock, systemClock } from '../../src/util/clock.js';

/** Where ../shared/openstack-lab/up.sh wrote its env files. */
export const LAB_DIR = process.env.OPENSTACK_LAB_DIR ?? '/tmp/openstack-lab';

/**
 * Where the suite talks to the lab, taken from the environment it runs in: with tls.env sourced
 * (`OS_AUTH_URL` https, `OS_REGION_NAME=RegionTLS`, `OS_CACERT`) every helper, and every daemon the tests
 * start, goes over TLS; without them, the env files' plain-HTTP region.
 */
const ROUTE_KEYS = ['OS_AUTH_URL', 'OS_REGION_NAME', 'OS_CACERT'] as const;

/** The lab's env file `name` with the route of the suite's environment over it (see ROUTE_KEYS). */
export function labEnv(name: 'demo' | 'admin'): Record<string, string> {
  const env = labFile(name);
  const route = process.env.OS_AUTH_URL ? ROUTE_KEYS : [];
  for (const key of route) {
    const value = process.env[key];
    if (value) env[key] = value;
    else delete env[key];
  }
  return env;
}

/** The variables of one env file of the lab (`demo` or `admin`) as written; fails clearly when the lab is not up. */
export function labFile(name: 'demo' | 'admin' | 'tls'): Record<string, string> {
  const file = join(LAB_DIR, `${name}.env`);
  if (!existsSync(file))
    throw new Error(
      `${file} is missing: start the OpenStack lab first (sudo ../shared/openstack-lab/up.sh, see its README)`,
    );
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line.trim());
    if (m?.[1]) env[m[1]] = (m[2] ?? '').replace(/^"(.*)"$/, '$1');
  }
  return env;
}

export const demo = labEnv('demo');
export const IMAGE = demo.OS_LAB_IMAGE ?? 'fake-image';
export const NETWORK = demo.OS_LAB_NETWORK ?? 'shared-net';
export const FLAVOR = 'm1.tiny';

/** The iaas block of a preset or settings file for the lab's demo project (YAML flow mapping). */
export function iaasBlock(extra = ''): string {
  const e = demo;
  const cacert = e.OS_CACERT ? `, cacert: '${e.OS_CACERT}'` : '';
  return `{driver: OpenStackDriver, auth_url: '${e.OS_AUTH_URL}', username: ${e.OS_USERNAME}, password: ${e.OS_PASSWORD}, project_name: ${e.OS_PROJECT_NAME}, user_domain_name: ${e.OS_USER_DOMAIN_NAME}, project_domain_name: ${e.OS_PROJECT_DOMAIN_NAME}, region_name: ${e.OS_REGION_NAME}${cacert}${extra}}`;
}

/**
 * The settings of a lab test daemon: in-memory runtime, presets from its directory, the demo project's
 * iaas block (`iaasExtra` appended inside it); `top` adds top-level lines, `defaults` lines under defaults.
 */
export function labSettings(o: { iaasExtra?: string; top?: string; defaults?: string } = {}): string {
  return `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
${o.top ?? ''}
defaults:
  iaas: ${iaasBlock(o.iaasExtra)}
${o.defaults ?? ''}`;
}

/**
 * Deletes the servers of these presets only (the demo project is shared by the lab files) and waits until
 * Nova shows them gone.
 */
export async function removeServersOf(cloud: OpenStackCloud, presets: readonly string[]): Promise<void> {
  await waitFor(
    async () => {
      const left: NovaServer[] = [];
      for (const p of presets) left.push(...(await liveServers(cloud, p)));
      await Promise.all(left.map((s) => cloud.terminate(s.id)));
      return left.length;
    },
    (n) => n === 0,
    60_000,
  );
}

/**
 * The daemons a lab file starts: `track(d)` (returns `d`) has `d` stopped after its test; `stop(d)` stops it
 * now, mid-test (a restart), and forgets it.
 */
export function stopDaemonsAfterEach(): { track(d: Daemon): Daemon; stop(d: Daemon): Promise<void> } {
  const running = new Set<Daemon>();
  afterEach(async () => {
    const all = [...running];
    running.clear();
    await Promise.all(all.map((d) => d.stop()));
  });
  return {
    track: (d) => {
      running.add(d);
      return d;
    },
    stop: async (d) => {
      running.delete(d);
      await d.stop();
    },
  };
}

/** A driver instance for a project of the lab, credentials from its env file (the OS_* route). */
export function labCloud(
  name: 'demo' | 'admin' = 'demo',
  options: Record<string, unknown> = {},
  clock: Clock = systemClock,
): OpenStackCloud {
  const o = openStackOptionsSchema.parse(options);
  const creds = resolveCredentials(o, {
    env: labEnv(name),
    resolvePath: (p) => p,
    readFile: () => undefined,
  });
  return new OpenStackCloud(creds, o, clock);
}

/** Driver options with the demo project's credentials and another Keystone URL (a front made by a test). */
export function demoVia(authUrl: string, options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    auth_url: authUrl,
    username: demo.OS_USERNAME,
    password: demo.OS_PASSWORD,
    project_name: demo.OS_PROJECT_NAME,
    user_domain_name: demo.OS_USER_DOMAIN_NAME,
    project_domain_name: demo.OS_PROJECT_DOMAIN_NAME,
    region_name: demo.OS_REGION_NAME,
    ...(demo.OS_CACERT ? { cacert: demo.OS_CACERT } : {}),
    ...options,
  };
}

/** A raw API call with the cloud's session (for what vmshepherd never does: admin actions, quotas). */
export async function api(
  cloud: OpenStackCloud,
  type: 'compute' | 'image' | 'network',
  method: string,
  path: string,
  body?: unknown,
  microversion = '2.47',
  headers: Record<string, string> = {},
): Promise<unknown> {
  const res = await cloud.session.request(type, (base, token) => ({
    method,
    url: `${base}${path}`,
    call: `${method} ${type} ${path}`,
    headers: {
      'x-auth-token': token,
      'openstack-api-version': `compute ${microversion}`,
      ...headers,
    },
    ...(body !== undefined ? { body } : {}),
  }));
  return res.body;
}

/**
 * A Cinder (`volumev3`) call with the cloud's session: Cinder gets its own microversion header (one naming
 * compute is refused). 404 is an answer (`status`), as a volume deleted with its server answers.
 */
export async function cinder(
  cloud: OpenStackCloud,
  method: string,
  path: string,
): Promise<{ status: number; body: unknown }> {
  const token = await cloud.session.token();
  const region = demo.OS_REGION_NAME;
  const ep = token.catalog
    .find((e) => e.type === 'volumev3')
    ?.endpoints.find(
      (e) => e.interface === 'public' && (!region || e.region === region || e.region_id === region),
    );
  if (!ep) throw new Error(`no public volumev3 endpoint in region ${region}`);
  const res = await cloud.http.send({
    method,
    url: `${ep.url.replace(/\/+$/, '')}${path}`,
    call: `${method} volumev3 ${path}`,
    headers: { 'x-auth-token': token.value, 'openstack-api-version': 'volume 3.60' },
    accept: [404],
  });
  return { status: res.status, body: res.body };
}

/** Every server of the demo project carrying vmshepherd's preset metadata, by preset. */
export async function serversByPreset(cloud: OpenStackCloud): Promise<Map<string, NovaServer[]>> {
  const out = new Map<string, NovaServer[]>();
  for (const s of await cloud.servers({})) {
    const p = s.metadata?.[META_PRESET];
    if (p === undefined) continue;
    out.set(p, [...(out.get(p) ?? []), s]);
  }
  return out;
}

/** Servers in short: `id:STATUS:task:spec`, for failure messages. */
export function brief(servers: NovaServer[]): string {
  return servers
    .map(
      (s) =>
        `${s.id.slice(0, 8)}:${s.status}:${s['OS-EXT-STS:task_state'] ?? '-'}:${s.metadata?.vmshepherd_spec ?? ''}`,
    )
    .join(' ');
}

/** Deletes every server of the demo project and waits until they are gone (each test starts empty). */
export async function emptyProject(cloud: OpenStackCloud, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const servers = await cloud.servers({});
    if (servers.length === 0) return;
    if (Date.now() > end) throw new Error(`servers left in the demo project: ${servers.map((s) => s.id)}`);
    await Promise.all(servers.map((s) => cloud.terminate(s.id)));
    await new Promise((r) => setTimeout(r, 500));
  }
}

export async function waitFor<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  stepMs = 500,
  show: (v: T) => string = (v) => JSON.stringify(v).slice(0, 400),
): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = await fn();
  while (!ok(last)) {
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs} ms; last: ${show(last)}`);
    await new Promise((r) => setTimeout(r, stepMs));
    last = await fn();
  }
  return last;
}

/** Servers of a preset that are not being deleted, as the API shows them now. */
export async function liveServers(cloud: OpenStackCloud, preset: string): Promise<NovaServer[]> {
  const all = (await serversByPreset(cloud)).get(preset) ?? [];
  return all.filter((s) => stateOf(s) !== 'terminated' && stateOf(s) !== 'deleting');
}

/** The actions Nova recorded on a server (create, resize, confirmResize, rebuild...), oldest first. */
export async function actions(cloud: OpenStackCloud, serverId: string): Promise<string[]> {
  const body = (await api(cloud, 'compute', 'GET', `/servers/${serverId}/os-instance-actions`)) as {
    instanceActions: { action: string }[];
  };
  return body.instanceActions.map((a) => a.action).reverse(); // Nova lists the newest first
}

export const activeServers = (servers: NovaServer[]) => servers.filter((s) => s.status === 'ACTIVE');

/** Runs manage cycles until the preset's live servers satisfy `ok`. */
export function convergeServers(
  d: Daemon,
  cloud: OpenStackCloud,
  preset: string,
  ok: (s: NovaServer[]) => boolean,
  timeoutMs = 90_000,
): Promise<NovaServer[]> {
  return waitFor(
    async () => {
      await d.runOnce();
      return liveServers(cloud, preset);
    },
    ok,
    timeoutMs,
    250,
    brief,
  );
}

let agent: Agent | undefined;
/** Connections for raw calls of the tests: over the TLS region they trust the lab's CA (OS_CACERT). */
function labAgent(): Agent {
  agent ??= new Agent(demo.OS_CACERT ? { connect: { ca: readFileSync(demo.OS_CACERT, 'utf8') } } : {});
  return agent;
}

/** A Glance call with the cloud's session (JSON, or raw bytes with their content type). */
export async function glance(
  cloud: OpenStackCloud,
  method: string,
  path: string,
  body?: string | Uint8Array,
  type = 'application/json',
): Promise<unknown> {
  const token = await cloud.session.token();
  const res = await fetch(`${cloud.session.endpoint(token, 'image')}${path}`, {
    method,
    headers: { 'x-auth-token': token.value, 'content-type': type },
    ...(body !== undefined ? { body } : {}),
    dispatcher: labAgent(),
  });
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  return res.status === 204 ? undefined : res.json().catch(() => undefined);
}

/** Uploads a small raw image to Glance; returns its id. */
export async function uploadImage(cloud: OpenStackCloud, name: string): Promise<string> {
  const created = (await glance(
    cloud,
    'POST',
    '/images',
    JSON.stringify({ name, disk_format: 'raw', container_format: 'bare' }),
  )) as { id: string };
  await glance(cloud, 'PUT', `/images/${created.id}/file`, new Uint8Array(1024), 'application/octet-stream');
  return created.id;
}
