import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import type { Credentials, EndpointInterface } from './credentials.js';
import type { HttpClient, HttpResponse } from './http.js';

export interface CatalogEndpoint {
  interface: string;
  region?: string | null;
  region_id?: string | null;
  url: string;
}
export interface CatalogEntry {
  type: string;
  endpoints: CatalogEndpoint[];
}

export interface Token {
  value: string;
  issuedAt: number;
  expiresAt: number;
  catalog: CatalogEntry[];
  projectId?: string;
}

export type ServiceType = 'compute' | 'image' | 'network';

/** Version paths appended to catalog URLs that name the service root only. */
const VERSION_SUFFIX: Record<ServiceType, string> = { compute: '', image: '/v2', network: '/v2.0' };

/** The endpoint of a service type for an interface and region, from a token's catalog (pure). */
export function endpointFor(
  catalog: readonly CatalogEntry[],
  type: ServiceType,
  iface: EndpointInterface,
  region?: string,
): string {
  const entry = catalog.find((e) => e.type === type);
  const ep = entry?.endpoints.find(
    (e) => e.interface === iface && (!region || e.region === region || e.region_id === region),
  );
  if (!ep)
    throw new ShepherdError(
      'openstack_catalog_1001',
      `no ${iface} ${type} endpoint${region ? ` in region ${region}` : ''}`,
    );
  const url = ep.url.replace(/\/+$/, '');
  const suffix = VERSION_SUFFIX[type];
  return suffix && !/\/v\d+(\.\d+)?$/.test(url) ? `${url}${suffix}` : url;
}

/** When a token should be renewed: a quarter of its lifetime before expiry, at most 5 minutes before (pure). */
export function renewAt(token: Pick<Token, 'issuedAt' | 'expiresAt'>): number {
  const lifetime = token.expiresAt - token.issuedAt;
  return token.expiresAt - Math.min(300_000, Math.max(0, lifetime / 4));
}

/** The body of POST /v3/auth/tokens for the credentials (pure). */
export function authBody(c: Credentials): unknown {
  const a = c.auth;
  const domain = (name?: string, id?: string) =>
    id ? { domain: { id } } : name ? { domain: { name } } : { domain: { id: 'default' } };
  const user = (u: { username?: string; userId?: string; userDomainName?: string; userDomainId?: string }) =>
    u.userId ? { id: u.userId } : { name: u.username, ...domain(u.userDomainName, u.userDomainId) };
  if (a.method === 'application_credential') {
    const cred = a.id ? { id: a.id, secret: a.secret } : { name: a.name, secret: a.secret, user: user(a) };
    return { auth: { identity: { methods: ['application_credential'], application_credential: cred } } };
  }
  const project = a.projectId
    ? { id: a.projectId }
    : { name: a.projectName, ...domain(a.projectDomainName, a.projectDomainId) };
  return {
    auth: {
      identity: { methods: ['password'], password: { user: { ...user(a), password: a.password } } },
      scope: { project },
    },
  };
}

/**
 * A Keystone v3 session: one token at a time, renewed before it expires and once when a service answers
 * 401; concurrent callers share one renewal.
 */
export class KeystoneSession {
  private current: Token | undefined;
  /** The project of the last token issued (an application credential names it only so). */
  projectId: string | undefined;
  private pending: Promise<Token> | undefined;
  /** Tokens issued so far (tests and benchmarks read it). */
  issued = 0;

  constructor(
    private readonly creds: Credentials,
    private readonly http: HttpClient,
    private readonly clock: Clock,
  ) {}

  async token(signal?: AbortSignal): Promise<Token> {
    const t = this.current;
    if (t && this.clock.now() < renewAt(t)) return t;
    this.pending ??= this.issue(signal).finally(() => {
      this.pending = undefined;
    });
    return this.pending;
  }

  /** Drops a token a service refused, unless a newer one replaced it already. */
  invalidate(token: Token): void {
    if (this.current === token) this.current = undefined;
  }

  endpoint(token: Token, type: ServiceType): string {
    return endpointFor(token.catalog, type, this.creds.interface, this.creds.region);
  }

  /** Sends a request to a service with the token; a 401 renews the token and sends it once more. */
  async request(
    type: ServiceType,
    make: (base: string, token: string) => Parameters<HttpClient['send']>[0],
    signal?: AbortSignal,
  ): Promise<HttpResponse> {
    for (let attempt = 0; ; attempt++) {
      const token = await this.token(signal);
      const req = make(this.endpoint(token, type), token.value);
      const res = await this.http.send({ ...req, accept: [...(req.accept ?? []), 401] });
      if (res.status !== 401) return res;
      this.invalidate(token);
      if (attempt > 0 || req.accept?.includes(401))
        throw new ShepherdError('openstack_auth_0001', `${req.call}: HTTP 401 after a new token`);
    }
  }

  private async issue(signal?: AbortSignal): Promise<Token> {
    const url = `${this.creds.authUrl.replace(/\/+$/, '').replace(/(\/v3)?$/, '/v3')}/auth/tokens`;
    const res = await this.http.send({
      method: 'POST',
      url,
      body: authBody(this.creds),
      call: 'POST identity /auth/tokens',
      auth: true,
      ...(signal ? { signal } : {}),
    });
    const value = res.headers.get('x-subject-token');
    const body = res.body as {
      token?: {
        expires_at?: string;
        issued_at?: string;
        catalog?: CatalogEntry[];
        project?: { id?: string };
      };
    };
    if (!value || !body?.token)
      throw new ShepherdError('openstack_auth_0001', 'Keystone answered without a token');
    const now = this.clock.now();
    const expires = Date.parse(body.token.expires_at ?? '');
    const token: Token = {
      value,
      issuedAt: now,
      // A token without expiry is renewed hourly anyway.
      expiresAt: Number.isNaN(expires) ? now + 3_600_000 : now + (expires - Date.now()),
      catalog: body.token.catalog ?? [],
      ...(body.token.project?.id ? { projectId: body.token.project.id } : {}),
    };
    this.issued++;
    this.current = token;
    this.projectId = token.projectId ?? this.projectId;
    return token;
  }
}
