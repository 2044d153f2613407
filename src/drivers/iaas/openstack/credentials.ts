import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { OpenStackOptions } from './options.js';

export type EndpointInterface = 'public' | 'internal' | 'admin';

export interface PasswordAuth {
  method: 'password';
  username?: string;
  userId?: string;
  password: string;
  userDomainName?: string;
  userDomainId?: string;
  projectName?: string;
  projectId?: string;
  projectDomainName?: string;
  projectDomainId?: string;
}

export interface ApplicationCredentialAuth {
  method: 'application_credential';
  id?: string;
  name?: string;
  secret: string;
  /** An application credential given by name belongs to a user, named here. */
  username?: string;
  userId?: string;
  userDomainName?: string;
  userDomainId?: string;
}

/** Everything needed to talk to one OpenStack project, whichever source it came from. */
export interface Credentials {
  authUrl: string;
  auth: PasswordAuth | ApplicationCredentialAuth;
  region?: string;
  interface: EndpointInterface;
  cacert?: string;
  insecure: boolean;
  /** Where the credentials came from, for error messages (never the secrets). */
  source: string;
}

/** The flat keys every source is turned into (names of the driver options). */
type Flat = Partial<Record<FlatKey, string>> & { insecure?: boolean };
type FlatKey =
  | 'auth_url'
  | 'username'
  | 'user_id'
  | 'password'
  | 'project_name'
  | 'project_id'
  | 'user_domain_name'
  | 'user_domain_id'
  | 'project_domain_name'
  | 'project_domain_id'
  | 'application_credential_id'
  | 'application_credential_name'
  | 'application_credential_secret'
  | 'region_name'
  | 'interface'
  | 'cacert';

const FLAT_KEYS: readonly FlatKey[] = [
  'auth_url',
  'username',
  'user_id',
  'password',
  'project_name',
  'project_id',
  'user_domain_name',
  'user_domain_id',
  'project_domain_name',
  'project_domain_id',
  'application_credential_id',
  'application_credential_name',
  'application_credential_secret',
  'region_name',
  'interface',
  'cacert',
];

export interface CredentialSources {
  env: Record<string, string | undefined>;
  /** Resolves a path given in the options (relative to the config file). */
  resolvePath(path: string): string;
  readFile(path: string): string | undefined;
}

export const defaultSources = (resolvePath: (p: string) => string): CredentialSources => ({
  env: process.env,
  resolvePath,
  readFile: (path) => (existsSync(path) ? readFileSync(path, 'utf8') : undefined),
});

/**
 * Resolves the credentials as the OpenStack CLI does: a named cloud (`cloud:` or OS_CLOUD) is read from
 * clouds.yaml; otherwise, when the options carry no `auth_url`, the OS_* environment. Options given in the
 * driver block always win.
 */
export function resolveCredentials(o: OpenStackOptions, sources: CredentialSources): Credentials {
  const options = fromOptions(o);
  const cloud = o.cloud ?? (o.auth_url ? undefined : sources.env.OS_CLOUD);
  let base: Flat = {};
  let source = 'driver options';
  if (cloud) {
    const { flat, file } = fromCloudsYaml(cloud, o.clouds_file, sources);
    base = flat;
    source = `cloud '${cloud}' of ${file}`;
  } else if (!o.auth_url) {
    base = fromEnv(sources.env);
    source = 'OS_* environment';
  }
  const flat: Flat = { ...base, ...options };
  return toCredentials(flat, o.insecure || flat.insecure === true, source);
}

function fromOptions(o: OpenStackOptions): Flat {
  const flat: Flat = {};
  for (const key of FLAT_KEYS) {
    const v = o[key];
    if (typeof v === 'string' && v !== '') flat[key] = v;
  }
  return flat;
}

const ENV_NAMES: Record<FlatKey, string[]> = {
  auth_url: ['OS_AUTH_URL'],
  username: ['OS_USERNAME'],
  user_id: ['OS_USER_ID'],
  password: ['OS_PASSWORD'],
  project_name: ['OS_PROJECT_NAME', 'OS_TENANT_NAME'],
  project_id: ['OS_PROJECT_ID', 'OS_TENANT_ID'],
  user_domain_name: ['OS_USER_DOMAIN_NAME', 'OS_DEFAULT_DOMAIN_NAME'],
  user_domain_id: ['OS_USER_DOMAIN_ID', 'OS_DEFAULT_DOMAIN_ID'],
  project_domain_name: ['OS_PROJECT_DOMAIN_NAME', 'OS_DEFAULT_DOMAIN_NAME'],
  project_domain_id: ['OS_PROJECT_DOMAIN_ID', 'OS_DEFAULT_DOMAIN_ID'],
  application_credential_id: ['OS_APPLICATION_CREDENTIAL_ID'],
  application_credential_name: ['OS_APPLICATION_CREDENTIAL_NAME'],
  application_credential_secret: ['OS_APPLICATION_CREDENTIAL_SECRET'],
  region_name: ['OS_REGION_NAME'],
  interface: ['OS_INTERFACE', 'OS_ENDPOINT_TYPE'],
  cacert: ['OS_CACERT'],
};

export function fromEnv(env: Record<string, string | undefined>): Flat {
  const flat: Flat = {};
  for (const key of FLAT_KEYS) {
    const v = ENV_NAMES[key].map((n) => env[n]).find((x) => x !== undefined && x !== '');
    if (v !== undefined) flat[key] = v;
  }
  if (/^(1|true|yes)$/i.test(env.OS_INSECURE ?? '')) flat.insecure = true;
  return flat;
}

function cloudsFiles(explicit: string | undefined, sources: CredentialSources): string[] {
  if (explicit) return [sources.resolvePath(explicit)];
  const env = sources.env.OS_CLIENT_CONFIG_FILE;
  return [
    ...(env ? [env] : []),
    resolve('clouds.yaml'),
    join(homedir(), '.config', 'openstack', 'clouds.yaml'),
    '/etc/openstack/clouds.yaml',
  ];
}

function fromCloudsYaml(
  cloud: string,
  explicit: string | undefined,
  sources: CredentialSources,
): { flat: Flat; file: string } {
  const files = cloudsFiles(explicit, sources);
  for (const file of files) {
    const text = sources.readFile(file);
    if (text === undefined) continue;
    let doc: unknown;
    try {
      doc = parse(text);
    } catch (err) {
      throw new ShepherdError('openstack_config_1001', `${file} is not valid YAML`, { cause: err });
    }
    const entry = (doc as { clouds?: Record<string, unknown> } | null)?.clouds?.[cloud];
    if (!entry || typeof entry !== 'object') continue;
    return { flat: flattenCloud(entry as Record<string, unknown>), file };
  }
  throw new ShepherdError('openstack_config_1001', `no cloud '${cloud}' in ${files.join(', ')}`);
}

/** A clouds.yaml entry: `auth:` holds the identity keys, the rest sits beside it. */
export function flattenCloud(entry: Record<string, unknown>): Flat {
  const flat: Flat = {};
  const auth = (entry.auth ?? {}) as Record<string, unknown>;
  for (const key of FLAT_KEYS) {
    const v = auth[key] ?? entry[key];
    if (typeof v === 'string' && v !== '') flat[key] = v;
  }
  if (entry.verify === false || entry.insecure === true) flat.insecure = true;
  if (typeof entry.cacert === 'string') flat.cacert = entry.cacert;
  return flat;
}

function toCredentials(f: Flat, insecure: boolean, source: string): Credentials {
  const missing = (what: string) =>
    new ShepherdError('openstack_config_1001', `${what} is not set (credentials from ${source})`);
  if (!f.auth_url) throw missing('auth_url');
  const iface = normalizeInterface(f.interface);
  const common = {
    authUrl: f.auth_url,
    interface: iface,
    insecure,
    source,
    ...(f.region_name ? { region: f.region_name } : {}),
    ...(f.cacert ? { cacert: f.cacert } : {}),
  };
  const user = {
    ...(f.username ? { username: f.username } : {}),
    ...(f.user_id ? { userId: f.user_id } : {}),
    ...(f.user_domain_name ? { userDomainName: f.user_domain_name } : {}),
    ...(f.user_domain_id ? { userDomainId: f.user_domain_id } : {}),
  };
  if (f.application_credential_secret || f.application_credential_id) {
    if (!f.application_credential_secret) throw missing('application_credential_secret');
    if (!f.application_credential_id && !f.application_credential_name)
      throw missing('application_credential_id (or _name)');
    if (!f.application_credential_id && !f.username && !f.user_id)
      throw missing('username or user_id (needed with application_credential_name)');
    return {
      ...common,
      auth: {
        method: 'application_credential',
        secret: f.application_credential_secret,
        ...(f.application_credential_id ? { id: f.application_credential_id } : {}),
        ...(f.application_credential_name ? { name: f.application_credential_name } : {}),
        ...user,
      },
    };
  }
  if (!f.username && !f.user_id) throw missing('username (or user_id)');
  if (!f.password) throw missing('password');
  if (!f.project_name && !f.project_id) throw missing('project_name (or project_id)');
  return {
    ...common,
    auth: {
      method: 'password',
      password: f.password,
      ...user,
      ...(f.project_name ? { projectName: f.project_name } : {}),
      ...(f.project_id ? { projectId: f.project_id } : {}),
      ...(f.project_domain_name ? { projectDomainName: f.project_domain_name } : {}),
      ...(f.project_domain_id ? { projectDomainId: f.project_domain_id } : {}),
    },
  };
}

/** `publicURL` (the old OS_ENDPOINT_TYPE spelling) is `public`. */
function normalizeInterface(v: string | undefined): EndpointInterface {
  const s = (v ?? 'public').replace(/URL$/, '');
  return s === 'internal' || s === 'admin' ? s : 'public';
}
