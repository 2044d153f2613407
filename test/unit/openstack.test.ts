import { describe, expect, it } from 'vitest';
import { type CredentialSources, resolveCredentials } from '../../src/drivers/iaas/openstack/credentials.js';
import { codeOf, faultCode, messageOf, retryAfterMs } from '../../src/drivers/iaas/openstack/errors.js';
import { authBody, endpointFor, renewAt } from '../../src/drivers/iaas/openstack/keystone.js';
import { chooseImage, type Image } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import { openStackOptionsSchema } from '../../src/drivers/iaas/openstack/options.js';
import { ipsOf, serverToVm, stateOf } from '../../src/drivers/iaas/openstack/server-view.js';
import { TtlCache } from '../../src/drivers/iaas/openstack/ttl-cache.js';
import { CODES } from '../../src/errors/codes.js';
import { ShepherdError } from '../../src/errors/shepherd-error.js';

const opts = (o: Record<string, unknown> = {}) => openStackOptionsSchema.parse(o);
const sources = (
  env: Record<string, string> = {},
  files: Record<string, string> = {},
): CredentialSources => ({
  env,
  resolvePath: (p) => `/conf/${p}`,
  readFile: (p) => files[p],
});

const labEnv = {
  OS_AUTH_URL: 'http://127.0.0.1:5000/v3',
  OS_USERNAME: 'demo',
  OS_PASSWORD: 'secret',
  OS_PROJECT_NAME: 'demo',
  OS_USER_DOMAIN_NAME: 'Default',
  OS_PROJECT_DOMAIN_NAME: 'Default',
  OS_REGION_NAME: 'RegionOne',
  OS_INTERFACE: 'public',
};

describe('OpenStack credentials', () => {
  it("takes the original's options as they are, ignoring the environment", () => {
    const c = resolveCredentials(
      opts({
        auth_url: 'https://ks:5000/v3',
        username: 'u',
        password: 'p',
        project_name: 'proj',
        user_domain_name: 'D1',
        project_domain_name: 'D2',
      }),
      sources(labEnv),
    );
    expect(c).toMatchObject({
      authUrl: 'https://ks:5000/v3',
      interface: 'public',
      source: 'driver options',
      auth: {
        method: 'password',
        username: 'u',
        password: 'p',
        projectName: 'proj',
        userDomainName: 'D1',
        projectDomainName: 'D2',
      },
    });
    expect(c.region).toBeUndefined();
  });

  it('reads the OS_* environment when no auth_url or cloud is given; options still win', () => {
    const c = resolveCredentials(opts({ region_name: 'R2' }), sources(labEnv));
    expect(c).toMatchObject({
      authUrl: 'http://127.0.0.1:5000/v3',
      region: 'R2',
      source: 'OS_* environment',
      auth: { method: 'password', username: 'demo', projectName: 'demo' },
    });
  });

  it('reads a named cloud from clouds.yaml, with application credentials and verify: false', () => {
    const yaml = `clouds:
  lab:
    auth:
      auth_url: http://ks/v3
      application_credential_id: ac1
      application_credential_secret: s3cr3t
    auth_type: v3applicationcredential
    region_name: RegionOne
    interface: internal
    verify: false
`;
    const c = resolveCredentials(
      opts({ cloud: 'lab', clouds_file: 'clouds.yaml' }),
      sources({}, { '/conf/clouds.yaml': yaml }),
    );
    expect(c).toMatchObject({
      authUrl: 'http://ks/v3',
      interface: 'internal',
      insecure: true,
      region: 'RegionOne',
      auth: { method: 'application_credential', id: 'ac1', secret: 's3cr3t' },
    });
  });

  it('finds OS_CLOUD in OS_CLIENT_CONFIG_FILE', () => {
    const yaml =
      'clouds:\n  c1:\n    auth: {auth_url: http://x/v3, username: a, password: b, project_id: p1}\n';
    const c = resolveCredentials(
      opts(),
      sources({ OS_CLOUD: 'c1', OS_CLIENT_CONFIG_FILE: '/etc/c.yaml' }, { '/etc/c.yaml': yaml }),
    );
    expect(c.auth).toMatchObject({ method: 'password', username: 'a', projectId: 'p1' });
  });

  it('says which key is missing, with a catalogue code, and never the secret', () => {
    const err = (() => {
      try {
        resolveCredentials(opts({ auth_url: 'http://x/v3', username: 'u', password: 'hunter2' }), sources());
      } catch (e) {
        return e as ShepherdError;
      }
    })();
    expect(err?.code).toBe('openstack_config_1001');
    expect(err?.message).toContain('project_name');
    expect(err?.message).not.toContain('hunter2');
    expect(() => resolveCredentials(opts({ cloud: 'nope' }), sources())).toThrow(/no cloud 'nope'/);
  });

  it('builds the Keystone v3 request bodies for password and application credentials', () => {
    const pw = resolveCredentials(opts(), sources(labEnv));
    expect(authBody(pw)).toEqual({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: 'demo', domain: { name: 'Default' }, password: 'secret' } },
        },
        scope: { project: { name: 'demo', domain: { name: 'Default' } } },
      },
    });
    const ac = resolveCredentials(
      opts({
        auth_url: 'http://x',
        application_credential_name: 'n',
        application_credential_secret: 's',
        username: 'u',
      }),
      sources(),
    );
    expect(authBody(ac)).toEqual({
      auth: {
        identity: {
          methods: ['application_credential'],
          application_credential: { name: 'n', secret: 's', user: { name: 'u', domain: { id: 'default' } } },
        },
      },
    });
  });
});

describe('OpenStack catalog and tokens', () => {
  const catalog = [
    {
      type: 'compute',
      endpoints: [
        { interface: 'public', region: 'R1', url: 'http://nova-r1/v2.1/' },
        { interface: 'internal', region: 'R1', url: 'http://nova-int/v2.1' },
        { interface: 'public', region: 'R2', url: 'http://nova-r2/v2.1' },
      ],
    },
    { type: 'image', endpoints: [{ interface: 'public', region: 'R1', url: 'http://glance:9292' }] },
    { type: 'network', endpoints: [{ interface: 'public', region: 'R1', url: 'http://neutron:9696/' }] },
  ];

  it('picks the endpoint by type, interface and region, and adds the version path where missing', () => {
    expect(endpointFor(catalog, 'compute', 'public', 'R2')).toBe('http://nova-r2/v2.1');
    expect(endpointFor(catalog, 'compute', 'internal', 'R1')).toBe('http://nova-int/v2.1');
    expect(endpointFor(catalog, 'compute', 'public')).toBe('http://nova-r1/v2.1');
    expect(endpointFor(catalog, 'image', 'public', 'R1')).toBe('http://glance:9292/v2');
    expect(endpointFor(catalog, 'network', 'public', 'R1')).toBe('http://neutron:9696/v2.0');
    expect(() => endpointFor(catalog, 'image', 'admin', 'R1')).toThrow(/openstack_catalog_1001/);
  });

  it('renews a token a quarter of its life before expiry, at most five minutes before', () => {
    expect(renewAt({ issuedAt: 0, expiresAt: 3_600_000 })).toBe(3_300_000);
    expect(renewAt({ issuedAt: 0, expiresAt: 60_000 })).toBe(45_000);
  });
});

describe('OpenStack errors', () => {
  const table: [number, unknown, string][] = [
    [
      403,
      {
        forbidden: {
          message: 'Quota exceeded for instances: Requested 1, but already used 2 of 2 instances',
        },
      },
      'openstack_create_0001',
    ],
    [413, { overLimit: { message: 'Quota exceeded for cores' } }, 'openstack_create_0001'],
    [403, { NeutronError: { message: 'Maximum number of ports exceeded' } }, 'openstack_create_0001'],
    [500, { computeFault: { message: 'No valid host was found. ' } }, 'openstack_create_0002'],
    [429, 'Too Many Requests', 'openstack_call_0001'],
    [
      409,
      { conflictingRequest: { message: 'There was a conflict when trying to complete your request.' } },
      'openstack_call_0002',
    ],
    [
      409,
      {
        conflictingRequest: {
          message: "Cannot 'os-start' instance 5f0c while it is in vm_state active",
        },
      },
      'openstack_compute_0003',
    ],
    [404, { itemNotFound: { message: 'Instance x could not be found.' } }, 'openstack_compute_0002'],
    [404, { itemNotFound: { message: 'Flavor m9 could not be found.' } }, 'openstack_call_0003'],
    [
      406,
      {
        computeFault: {
          message: 'Version 2.99 is not supported by the API. Minimum is 2.1 and maximum is 2.93.',
        },
      },
      'openstack_compute_0001',
    ],
    [501, { notImplemented: { message: 'Feature not supported.' } }, 'openstack_compute_0001'],
    [400, { badRequest: { message: 'Invalid key_name provided.' } }, 'openstack_call_0004'],
    [
      403,
      { forbidden: { message: 'Policy does not allow os_compute_api:os-admin-actions' } },
      'openstack_call_0005',
    ],
    [
      401,
      { error: { message: 'The request you have made requires authentication.' } },
      'openstack_auth_0001',
    ],
    [503, '<html><body>Service Unavailable</body></html>', 'openstack_call_2003'],
  ];
  it.each(table)('HTTP %i %j → %s', (status, body, code) => {
    expect(codeOf({ status, body })).toBe(code);
    expect(Object.hasOwn(CODES, code)).toBe(true);
  });

  it('types a 404 on a server path as instance not found, whatever the message', () => {
    const gone = { status: 404, body: { itemNotFound: { message: 'Not found' } } };
    expect(codeOf({ ...gone, call: 'POST compute /servers/abc/action' })).toBe('openstack_compute_0002');
    expect(codeOf({ ...gone, call: 'GET compute /servers/abc' })).toBe('openstack_compute_0002');
    expect(codeOf({ ...gone, call: 'GET compute /servers/detail' })).toBe('openstack_call_0003');
    expect(codeOf({ ...gone, call: 'GET compute /os-server-groups/x' })).toBe('openstack_call_0003');
  });

  it('advises a retry for a wrong state only: not implemented and not found need no retry', () => {
    expect(new ShepherdError('openstack_compute_0003').retryable).toBe(true);
    expect(new ShepherdError('openstack_compute_0001').retryable).toBe(false);
    expect(new ShepherdError('openstack_compute_0002').retryable).toBe(false);
    // Not a failure of the API itself: the circuit breaker does not count them.
    for (const code of ['openstack_compute_0001', 'openstack_compute_0002', 'openstack_compute_0003'])
      expect(new ShepherdError(code).class).toBe('api');
  });

  it('treats any refusal of the token request as an auth failure', () => {
    expect(codeOf({ status: 404, body: {}, auth: true })).toBe('openstack_auth_0001');
  });

  it('classes quota and capacity so the core stops that flavor for a window', () => {
    expect(new ShepherdError('openstack_create_0001').limit).toBe('quota');
    expect(new ShepherdError('openstack_create_0002').limit).toBe('capacity');
    expect(new ShepherdError('openstack_call_2002').retryable).toBe(true);
    expect(new ShepherdError('openstack_call_0004').retryable).toBe(false);
  });

  it('reads messages of every service and Retry-After in seconds or as a date', () => {
    expect(messageOf({ error: { message: 'm', code: 401 } })).toBe('m');
    expect(messageOf('<h1>503</h1> down')).toBe('503 down');
    expect(retryAfterMs('3')).toBe(3000);
    expect(retryAfterMs('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT'))).toBe(
      10_000,
    );
    expect(retryAfterMs('soon')).toBeUndefined();
  });

  it('gives server faults a code: no valid host is capacity, the rest a build error', () => {
    expect(faultCode('No valid host was found. There are not enough hosts available.')).toBe(
      'openstack_create_0002',
    );
    expect(faultCode('Build of instance aborted: Failure prepping block device.')).toBe(
      'openstack_boot_2001',
    );
  });
});

describe('OpenStack servers as VMs', () => {
  it('maps statuses as the original did, finer where the loop needs it', () => {
    const cases: [string, string | null, string][] = [
      ['ACTIVE', null, 'running'],
      ['BUILD', 'spawning', 'pending'],
      ['REBUILD', 'rebuild_spawning', 'unknown'],
      ['HARD_REBOOT', 'rebooting_hard', 'unknown'],
      ['VERIFY_RESIZE', null, 'unknown'],
      ['SHUTOFF', 'powering-on', 'unknown'],
      ['ERROR', null, 'error'],
      ['SHUTOFF', null, 'stopped'],
      ['SUSPENDED', null, 'stopped'],
      ['SOFT_DELETED', null, 'terminated'],
      ['ACTIVE', 'deleting', 'deleting'],
      ['UNKNOWN', null, 'unknown'],
    ];
    for (const [status, task, state] of cases)
      expect(stateOf({ status, 'OS-EXT-STS:task_state': task }), `${status}/${task}`).toBe(state);
  });

  it('keeps the fault, the timed shutdown, the IPs (v4 first) and names', () => {
    const vm = serverToVm(
      {
        id: 's1',
        name: 'web-1',
        status: 'ERROR',
        created: '2026-01-01T00:00:00Z',
        metadata: { vmshepherd_preset: 'web', iaas_timed_shutdown: '1800000000' },
        addresses: {
          net: [
            { addr: 'fe80::1', version: 6 },
            { addr: '10.0.0.5', version: 4 },
          ],
        },
        image: { id: 'img-1' },
        flavor: { original_name: 'm1.tiny' },
        fault: { message: 'No valid host was found.', code: 500 },
      },
      { image: (id) => (id === 'img-1' ? 'debian' : undefined), flavor: () => undefined },
    );
    expect(vm).toMatchObject({
      state: 'error',
      providerStatus: 'ERROR',
      ips: ['10.0.0.5', 'fe80::1'],
      image: 'debian',
      flavor: 'm1.tiny',
      timedShutdownAt: 1_800_000_000_000,
      fault: 'No valid host was found. [openstack_create_0002]',
    });
    expect(ipsOf(undefined)).toEqual([]);
  });

  it("keeps the server's own tags, which get_vm_metadata returns as the original did", () => {
    const base = { id: 's1', name: 'web-1', status: 'ACTIVE' };
    expect(serverToVm({ ...base, tags: ['blue', 'canary'] }).tags).toEqual(['blue', 'canary']);
    expect(serverToVm({ ...base, tags: [] }).tags).toBeUndefined();
    expect(serverToVm(base).tags).toBeUndefined();
  });
});

describe('TtlCache', () => {
  it('loads once per TTL, reloads on a miss at most once per interval, and shares concurrent loads', async () => {
    let now = 0;
    const clock = { now: () => now, sleep: async () => {} };
    let loads = 0;
    let items = ['a'];
    const cache = new TtlCache(
      async () => {
        loads++;
        return items;
      },
      clock,
      60_000,
      5_000,
    );
    await Promise.all([cache.find((x) => x === 'a'), cache.find((x) => x === 'a')]);
    expect(loads).toBe(1);
    expect(await cache.find((x) => x === 'b')).toEqual([]);
    expect(loads).toBe(1); // a miss right after a load does not reload
    now = 6_000;
    items = ['a', 'b'];
    expect(await cache.find((x) => x === 'b')).toEqual(['b']);
    expect(loads).toBe(2);
    now = 70_000;
    await cache.find((x) => x === 'a');
    expect(loads).toBe(3);
  });
});

describe('OpenStack image by name (chooseImage)', () => {
  const images: Image[] = [
    { id: 'a-old', name: 'ubuntu', status: 'active', created_at: '2026-01-01T00:00:00Z', owner: 'team' },
    { id: 'a-new', name: 'ubuntu', status: 'active', created_at: '2026-02-01T00:00:00Z', owner: 'team' },
    { id: 'shared', name: 'ubuntu', status: 'active', created_at: '2026-03-01T00:00:00Z', owner: 'other' },
    { id: 'queued', name: 'ubuntu', status: 'queued', created_at: '2026-04-01T00:00:00Z', owner: 'team' },
  ];

  it('takes the newest active image of the name, whoever owns it, without image_owner_ids', () => {
    expect(chooseImage('ubuntu', images)?.id).toBe('shared');
    expect(chooseImage('ubuntu', images, [])?.id).toBe('shared');
  });

  it('takes only images the listed projects own with image_owner_ids', () => {
    expect(chooseImage('ubuntu', images, ['team'])?.id).toBe('a-new');
    expect(chooseImage('ubuntu', images, ['team', 'other'])?.id).toBe('shared');
    expect(chooseImage('ubuntu', images, ['nobody'])).toBeUndefined();
  });

  it('takes an image given by id whoever owns it', () => {
    expect(chooseImage('shared', images, ['team'])?.id).toBe('shared');
  });

  it("accepts image_owner_ids as the original's example writes it", () => {
    const parsed = openStackOptionsSchema.safeParse({ image_owner_ids: ['user'] });
    expect(parsed.success && parsed.data.image_owner_ids).toEqual(['user']);
  });
});
