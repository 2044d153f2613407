import { describe, expect, it } from 'vitest';
import type { CloudAccount } from '../../src/daemon/cloud-account.js';
import {
  IAAS_CAPABILITIES,
  type IaasCapability,
  META_PARTS,
  META_SPEC,
  type Vm,
} from '../../src/drivers/types.js';
import type { Preset } from '../../src/presets/preset.js';
import { encodeParts, specHashOf, specPartsOf } from '../../src/presets/spec-parts.js';
import { classify } from '../../src/reconcile/classify.js';
import { inPlaceFieldsOf, inPlaceWork } from '../../src/reconcile/in-place.js';
import { managePreset } from '../../src/reconcile/manage-preset.js';
import { plan } from '../../src/reconcile/plan.js';
import { vmSpec } from '../../src/reconcile/spec.js';
import { parseState } from '../../src/reconcile/state.js';
import { preset, T0, vm } from '../helpers/fixtures.js';
import { simManage } from '../helpers/sim-manage.js';

/** A preset whose spec hash and fingerprints are computed from its fields, as compiling one does. */
function specced(o: Partial<Preset> = {}): Preset {
  const p = preset({
    count: 3,
    image: 'img-1',
    flavor: 'small',
    keyName: 'key-1',
    userdata: '#cloud-config 1',
    network: { securityGroups: ['web'], subnets: ['net-a'], availabilityZone: 'az1' },
    update: { strategy: 'in_place', maxSurge: 1, maxUnavailable: 1, minReadyMs: 0 },
    healthcheck: null,
    ...o,
  });
  return { ...p, specHash: specHashOf(p), specParts: specPartsOf(p) };
}

/** A VM as a cloud that reports every field but user data shows one built from `p`. */
function builtFrom(p: Preset, o: Partial<Vm> = {}): Vm {
  return vm({
    image: p.image,
    flavor: p.flavor,
    keyName: p.keyName ?? null,
    securityGroups: p.network.securityGroups,
    networks: p.network.subnets,
    availabilityZone: p.network.availabilityZone,
    ...o,
    metadata: { [META_SPEC]: p.specHash, [META_PARTS]: encodeParts(p.specParts), ...o.metadata },
  });
}

const BASE = specced();
const ALL: IaasCapability[] = [...IAAS_CAPABILITIES];
const net = (n: Partial<Preset['network']>) => ({ network: { ...BASE.network, ...n } });

interface Row {
  name: string;
  change: Partial<Preset>;
  /** How the cloud shows the VM beside what it was built from (default: exactly that). */
  seen?: Partial<Vm>;
  caps?: IaasCapability[];
  /** The op planned for the VM, `replace`, or null when it is not outdated at all. */
  op: string | null;
}

// The field → operation table of docs/openstack.md ("In place: what each change takes"), row by row.
const rows: Row[] = [
  { name: 'flavor → resize', change: { flavor: 'large' }, op: 'resize' },
  { name: 'image → rebuild', change: { image: 'img-2' }, op: 'rebuild' },
  { name: 'user data → rebuild', change: { userdata: '#cloud-config 2' }, op: 'rebuild' },
  { name: 'key pair → rebuild', change: { keyName: 'key-2' }, op: 'rebuild' },
  {
    name: 'flavor and image → resize, then rebuild',
    change: { flavor: 'large', image: 'img-2' },
    op: 'resize+rebuild',
  },
  {
    name: 'security groups → set them',
    change: net({ securityGroups: ['web', 'db'] }),
    op: 'setSecurityGroups',
  },
  {
    name: 'security groups on a cloud that cannot set them → replace',
    change: net({ securityGroups: ['db'] }),
    caps: ALL.filter((c) => c !== 'setSecurityGroups'),
    op: 'replace',
  },
  { name: 'networks → set them', change: net({ subnets: ['net-b'] }), op: 'setNetworks' },
  {
    name: 'networks on a cloud that cannot set them → replace',
    change: net({ subnets: ['net-b'] }),
    caps: ALL.filter((c) => c !== 'setNetworks'),
    op: 'replace',
  },
  { name: 'availability zone → replace', change: net({ availabilityZone: 'az2' }), op: 'replace' },
  {
    name: 'only the record differs (the cloud shows every field right) → record, no call',
    change: { flavor: 'large' },
    seen: { flavor: 'large' },
    op: 'record',
  },
  {
    name: 'an image the cloud shows by id only (its name unknown yet) is judged by the record → resize only',
    change: { flavor: 'large' },
    seen: { image: 'a1b2-image-id', imageId: 'a1b2-image-id' },
    op: 'resize',
  },
  {
    name: 'an image the cloud names differently → rebuild',
    change: { flavor: 'large' },
    seen: { image: 'img-0', imageId: 'a1b2-image-id' },
    op: 'resize+rebuild',
  },
  {
    name: 'a resize found waiting for its confirmation → resize (confirmed), never a rebuild',
    change: { flavor: 'large' },
    seen: { flavor: 'large', state: 'unknown', providerStatus: 'VERIFY_RESIZE', resizeUnconfirmed: true },
    op: 'resize',
  },
  {
    name: 'a VM that records no fingerprints and user data changed → replace (cannot tell)',
    change: { userdata: '#cloud-config 2' },
    seen: { metadata: { [META_PARTS]: '' } },
    op: 'replace',
  },
  {
    name: 'a cloud without a way to record a spec → replace',
    change: { image: 'img-2' },
    caps: ALL.filter((c) => c !== 'setMetadata'),
    op: 'replace',
  },
  { name: 'nothing changed → not outdated', change: {}, op: null },
];

describe('in-place work, field by field', () => {
  it.each(rows)('$name', (row) => {
    const next = specced(row.change);
    const v = builtFrom(BASE, row.seen);
    const caps = new Set(row.caps ?? ALL);
    const [c] = classify(next, [v], new Map(), T0);
    if (row.op === null) {
      expect(c?.outdated).toBe(false);
      return;
    }
    expect(c?.outdated).toBe(true);
    const work = inPlaceWork(next, v, inPlaceFieldsOf(caps), caps.has('setMetadata'));
    const op = work.kind === 'update' ? work.steps.map((s) => s.verb).join('+') : work.kind;
    expect(op).toBe(row.op);
    // The plan agrees: updated in place with that op, or replaced (terminated as outdated, or a surge VM first).
    const p = plan(next, classify(next, [v, builtFrom(next), builtFrom(next)], new Map(), T0), {
      now: T0,
      capabilities: caps,
    });
    if (row.op === 'replace') {
      expect(p.update).toEqual([]);
      expect(p.terminate.map((t) => [t.vmId, t.class])).toEqual([[v.id, 'outdated']]);
    } else {
      expect(p.update.map((u) => [u.vmId, u.op])).toEqual([[v.id, row.op]]);
      expect(p.terminate).toEqual([]);
    }
  });

  it('names the fields that require each step', () => {
    const next = specced({ flavor: 'large', image: 'img-2', userdata: '#2' });
    const work = inPlaceWork(next, builtFrom(BASE), inPlaceFieldsOf(new Set(ALL)), true);
    expect(work).toEqual({
      kind: 'update',
      disruptive: true,
      steps: [
        { verb: 'resize', fields: ['flavor'] },
        { verb: 'rebuild', fields: ['image', 'userdata'] },
      ],
    });
  });

  it('records every outdated VM whose fields are right, without spending the availability budget', () => {
    // max_unavailable 0 and no spare yet: no disruptive update may start, but records cost nothing.
    const next = specced({
      flavor: 'large',
      update: { strategy: 'in_place', maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 },
    });
    const vms = [1, 2, 3].map(() => builtFrom(BASE, { flavor: 'large' }));
    const p = plan(next, classify(next, vms, new Map(), T0), { now: T0, capabilities: new Set(ALL) });
    expect(p.update.map((u) => u.op)).toEqual(['record', 'record', 'record']);
    expect(p.create).toBe(0);
  });

  it('starts no spare VM to finish a resize of a VM that is not ready anyway', () => {
    const next = specced({ count: 1, flavor: 'large' });
    const waiting = builtFrom(BASE, {
      flavor: 'large',
      state: 'unknown',
      providerStatus: 'VERIFY_RESIZE',
      resizeUnconfirmed: true,
    });
    const p = plan(next, classify(next, [waiting], new Map(), T0), { now: T0, capabilities: new Set(ALL) });
    expect(p.update.map((u) => u.op)).toEqual(['resize']);
    expect(p.create).toBe(0);
  });

  it('spends the budget on rebuilds like on replacements: one at a time with max_unavailable 1', () => {
    const next = specced({ image: 'img-2' });
    const vms = [1, 2, 3].map(() => builtFrom(BASE));
    const p = plan(next, classify(next, vms, new Map(), T0), { now: T0, capabilities: new Set(ALL) });
    expect(p.update.map((u) => u.op)).toEqual(['rebuild']);
    expect(p.create).toBe(0);
  });

  it('a driver that declares fewer fields has the others replaced', () => {
    const next = specced({ flavor: 'large' });
    const fields = inPlaceFieldsOf(new Set(ALL), ['image', 'userdata', 'keyName']);
    expect(inPlaceWork(next, builtFrom(BASE), fields, true)).toMatchObject({
      kind: 'replace',
      fields: ['flavor'],
    });
  });
});

const CHANGE_VERBS = [
  'rebuild',
  'resize',
  'confirmResize',
  'setSecurityGroups',
  'setNetworks',
  'setMetadata',
];

interface SimRow {
  name: string;
  change: Partial<Preset>;
  /** Cloud calls of the in-place verbs during the update, by verb. */
  calls: Record<string, number>;
  rebuilt: boolean;
  replaced?: boolean;
  /** The fields the `updated` event names. */
  fields?: string;
}

// The same table on the simulated cloud: what the cloud was asked, whether the disk was wiped, and the
// spec recorded on the VM only once the cloud shows it.
const simRows: SimRow[] = [
  {
    name: 'flavor',
    change: { flavor: 'large' },
    calls: { resize: 1, confirmResize: 1, setMetadata: 1 },
    rebuilt: false,
    fields: 'flavor',
  },
  {
    name: 'image',
    change: { image: 'img-2' },
    calls: { rebuild: 1, setMetadata: 1 },
    rebuilt: true,
    fields: 'image',
  },
  {
    name: 'user data',
    change: { userdata: '#cloud-config 2' },
    calls: { rebuild: 1, setMetadata: 1 },
    rebuilt: true,
    fields: 'userdata',
  },
  {
    name: 'key pair',
    change: { keyName: 'key-2' },
    calls: { rebuild: 1, setMetadata: 1 },
    rebuilt: true,
    fields: 'keyName',
  },
  {
    name: 'security groups',
    change: net({ securityGroups: ['db'] }),
    calls: { setSecurityGroups: 1, setMetadata: 1 },
    rebuilt: false,
    fields: 'securityGroups',
  },
  {
    name: 'networks',
    change: net({ subnets: ['net-b'] }),
    calls: { setNetworks: 1, setMetadata: 1 },
    rebuilt: false,
    fields: 'networks',
  },
  {
    name: 'availability zone',
    change: net({ availabilityZone: 'az2' }),
    calls: {},
    rebuilt: false,
    replaced: true,
  },
];

describe('in-place updates on the simulated cloud', () => {
  it.each(simRows)('$name', async (row) => {
    const { cloud, deps } = simManage();
    const base = specced({ count: 1 });
    await managePreset(base, deps, { force: true });
    const [before] = cloud.peek();
    if (!before) throw new Error('no VM created');
    const next = specced({ ...row.change, count: 1 });
    const counts = () => Object.fromEntries(CHANGE_VERBS.map((v) => [v, cloud.callCount(v)]));
    const start = counts();
    for (let i = 0; i < 4; i++) await managePreset(next, deps, { force: true });
    const asked = Object.fromEntries(
      CHANGE_VERBS.map((v) => [v, (counts()[v] ?? 0) - (start[v] ?? 0)]).filter(([, n]) => n !== 0),
    );
    expect(asked).toEqual(row.calls);
    const [after] = cloud.peek();
    expect(after?.metadata[META_SPEC]).toBe(next.specHash);
    expect(after?.metadata[META_PARTS]).toBe(encodeParts(next.specParts));
    if (row.replaced) {
      expect(after?.id).not.toBe(before.id);
      return;
    }
    expect(after?.id).toBe(before.id);
    expect(cloud.diskOf(before.id)).toBe(row.rebuilt ? 2 : 1);
    const events = parseState(await deps.runtime.load(next.name)).events.filter((e) => e.type === 'updated');
    expect(events).toHaveLength(1);
    expect(events[0]?.data?.fields).toBe(row.fields);
  });

  it('only the record differs: writes it and calls nothing else', async () => {
    const { cloud, deps } = simManage();
    const base = specced({ count: 1 });
    await managePreset(base, deps, { force: true });
    const [v] = cloud.peek();
    // Someone resized the VM already (the flavor is right on the cloud); only the record is old.
    await cloud.resize(v!.id, vmSpec(specced({ flavor: 'large' })));
    await cloud.confirmResize(v!.id);
    const next = specced({ count: 1, flavor: 'large' });
    const before = { resize: cloud.callCount('resize'), setMetadata: cloud.callCount('setMetadata') };
    await managePreset(next, deps, { force: true });
    expect(cloud.callCount('resize')).toBe(before.resize);
    expect(cloud.callCount('rebuild')).toBe(0);
    expect(cloud.callCount('setMetadata')).toBe(before.setMetadata + 1);
    expect(cloud.peek()[0]?.metadata[META_SPEC]).toBe(next.specHash);
    expect(cloud.diskOf(v!.id)).toBe(1);
  });

  it('a resize left waiting for its confirmation is confirmed, never rebuilt', async () => {
    const { cloud, deps } = simManage();
    await managePreset(specced({ count: 1 }), deps, { force: true });
    const [v] = cloud.peek();
    const next = specced({ count: 1, flavor: 'large' });
    await cloud.resize(v!.id, vmSpec(next)); // the daemon stopped here, before confirming
    expect(cloud.peek()[0]?.providerStatus).toBe('VERIFY_RESIZE');
    await managePreset(next, deps, { force: true });
    expect(cloud.callCount('resize')).toBe(1);
    expect(cloud.callCount('confirmResize')).toBe(1);
    expect(cloud.callCount('rebuild')).toBe(0);
    expect(cloud.peek()[0]).toMatchObject({ id: v!.id, providerStatus: 'ACTIVE', flavor: 'large' });
    expect(cloud.peek()[0]?.metadata[META_SPEC]).toBe(next.specHash);
  });

  it('a resize no host can take fails with its code and leaves the VM on its flavor, unrecorded', async () => {
    const { cloud, deps } = simManage({ capacity: { large: 0 } });
    await managePreset(specced({ count: 1 }), deps, { force: true });
    const next = specced({ count: 1, flavor: 'large' });
    const outcome = await managePreset(next, deps, { force: true });
    expect(outcome.error?.code).toBe('dummy_create_0002');
    expect(cloud.peek()[0]).toMatchObject({ flavor: 'small', providerStatus: 'ACTIVE' });
    expect(cloud.peek()[0]?.metadata[META_SPEC]).toBe(specced().specHash);
  });

  it('records the fields a first step changed when a later step fails', async () => {
    const { cloud, deps } = simManage();
    await managePreset(specced({ count: 1 }), deps, { force: true });
    const next = specced({ count: 1, userdata: '#cloud-config 2', ...net({ securityGroups: ['db'] }) });
    const account = deps.cloud as CloudAccount;
    const verb = account.verb.bind(account);
    account.verb = (name, id, spec, o) =>
      name === 'setSecurityGroups' ? Promise.reject(new Error('refused')) : verb(name, id, spec, o);
    await managePreset(next, deps, { force: true });
    const [v] = cloud.peek();
    expect(cloud.diskOf(v!.id)).toBe(2); // rebuilt once for the user data
    expect(v?.metadata[META_SPEC]).toBe(specced().specHash); // not recorded as at the new spec
    account.verb = verb;
    await managePreset(next, deps, { force: true });
    expect(cloud.diskOf(v!.id)).toBe(2); // the user data's fingerprint was recorded: no second rebuild
    expect(cloud.peek()[0]?.metadata[META_SPEC]).toBe(next.specHash);
  });
});
