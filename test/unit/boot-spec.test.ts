import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createFields, nicEntries } from '../../src/drivers/iaas/openstack/create-fields.js';
import { IAAS_CAPABILITIES, META_PARTS, META_SPEC, type Vm } from '../../src/drivers/types.js';
import type { Preset } from '../../src/presets/preset.js';
import { encodeParts, specHashOf, specPartsOf } from '../../src/presets/spec-parts.js';
import { classify } from '../../src/reconcile/classify.js';
import { inPlaceFieldsOf, inPlaceWork } from '../../src/reconcile/in-place.js';
import { vmSpec } from '../../src/reconcile/spec.js';
import { stableJson } from '../../src/util/deep-merge.js';
import { catalogIn, SETTINGS } from '../helpers/catalog.js';
import { preset, T0, vm } from '../helpers/fixtures.js';
import { tempDir } from '../helpers/tmp.js';

/** A preset compiled from `text` (YAML lines after name, count and image). */
async function compiled(text: string): Promise<Preset> {
  const dir = tempDir({ 'presets/a.conf': `name: a\ncount: 1\nimage: img\nflavor: m1\n${text}` });
  const catalog = await catalogIn(dir, SETTINGS);
  const { problems } = await catalog.refresh();
  expect(problems).toEqual([]);
  return catalog.get('a') as Preset;
}

function specced(o: Partial<Preset> = {}): Preset {
  const p = preset({
    image: 'img-1',
    flavor: 'small',
    network: { securityGroups: ['web'], subnets: ['net-a'] },
    update: { strategy: 'in_place', maxSurge: 1, maxUnavailable: 1, minReadyMs: 0 },
    healthcheck: null,
    ...o,
  });
  return { ...p, specHash: specHashOf(p), specParts: specPartsOf(p) };
}

/** A VM built from `p` as a cloud reporting image, flavor and groups shows it; `parts` overrides the record. */
function builtFrom(p: Preset, parts?: string): Vm {
  return vm({
    image: p.image,
    flavor: p.flavor,
    securityGroups: p.network.securityGroups,
    metadata: { [META_SPEC]: p.specHash, [META_PARTS]: parts ?? encodeParts(p.specParts) },
  });
}

const ALL = new Set(IAAS_CAPABILITIES);
/** What an outdated VM built from `from` takes to reach `to`: the op, `replace`, or null (up to date). */
function workFor(from: Preset, to: Preset, parts?: string): string | null {
  const v = builtFrom(from, parts);
  const [c] = classify(to, [v], new Map(), T0);
  if (!c?.outdated) return null;
  const work = inPlaceWork(to, v, inPlaceFieldsOf(ALL), true);
  return work.kind === 'update' ? work.steps.map((s) => s.verb).join('+') : work.kind;
}

describe('volume, config drive and networks in the spec', () => {
  it('compiles them into the spec, and leaves the hash of presets without them as it was', async () => {
    const plain = await compiled('');
    const off = await compiled('config_drive: false\n');
    expect(off.specHash).toBe(plain.specHash);
    const vol = await compiled('volume: {size: 10, type: ssd}\n');
    expect(vol.volume).toEqual({ size: 10, type: 'ssd', deleteOnTermination: true });
    expect(vol.specHash).not.toBe(plain.specHash);
    const bigger = await compiled('volume: {size: 20, type: ssd}\n');
    expect(bigger.specHash).not.toBe(vol.specHash);
    const drive = await compiled('config_drive: true\n');
    expect(drive.configDrive).toBe(true);
    expect(drive.specHash).not.toBe(plain.specHash);
    const nets = await compiled(
      'network: {subnets: [{net-id: n1}], networks: [{name: n2, fixed_ip: 10.0.0.5}, {port: p1}]}\n',
    );
    expect(nets.network.subnets).toEqual(['n1']);
    expect(nets.network.nics).toEqual([{ network: 'n2', fixedIp: '10.0.0.5' }, { port: 'p1' }]);
    const spec = vmSpec(vol);
    expect(spec.volume).toEqual({ size: 10, type: 'ssd', deleteOnTermination: true });
    expect(vmSpec(plain).volume).toBeUndefined();
  });

  it('replaces a VM for a change of volume size or type, or of the config drive, never in place', () => {
    const base = specced({ volume: { size: 10, deleteOnTermination: true } });
    expect(workFor(base, specced({ volume: { size: 20, deleteOnTermination: true } }))).toBe('replace');
    expect(workFor(base, specced({ volume: { size: 10, type: 'ssd', deleteOnTermination: true } }))).toBe(
      'replace',
    );
    expect(workFor(base, specced())).toBe('replace');
    expect(workFor(specced(), specced({ configDrive: true }))).toBe('replace');
    expect(workFor(base, specced({ volume: { size: 10, deleteOnTermination: true } }))).toBeNull();
  });

  it('replaces a volume-backed VM for what a rebuild would change, and still resizes it', () => {
    const base = specced({ volume: { size: 10, deleteOnTermination: true } });
    expect(workFor(base, { ...specced({ volume: base.volume, image: 'img-2' }) })).toBe('replace');
    expect(workFor(base, specced({ volume: base.volume, userdata: '#2' }))).toBe('replace');
    expect(workFor(base, specced({ volume: base.volume, flavor: 'large' }))).toBe('resize');
    expect(workFor(specced(), specced({ image: 'img-2' }))).toBe('rebuild');
  });

  it('takes a VM that records no volume or config drive as built without them', () => {
    const old = specced();
    // As recorded before the two fields existed: no `v=` or `c=` letter.
    const parts = encodeParts({ ...old.specParts, volume: undefined, configDrive: undefined });
    expect(parts).not.toMatch(/v=|c=/);
    expect(workFor(old, specced({ image: 'img-2' }), parts)).toBe('rebuild');
    expect(workFor(old, specced({ image: 'img-2', configDrive: true }), parts)).toBe('replace');
  });

  it('compares `networks` entries with the networks, as subnets are', () => {
    const base = specced();
    const more = specced({ network: { ...base.network, nics: [{ network: 'net-b' }] } });
    expect(workFor(base, more)).toBe('setNetworks');
  });

  it('keeps the hash and the networks fingerprint that presets without the new keys always had', () => {
    const base = specced();
    const sha = (text: string, n: number) => createHash('sha256').update(text).digest('hex').slice(0, n);
    // The formulas from before volume, config drive and `networks` existed.
    expect(specPartsOf(base).networks).toBe(sha(JSON.stringify(['net-a']), 8));
    const { image, flavor, network, keyName, userdata } = base;
    expect(specHashOf(base)).toBe(sha(stableJson({ image, flavor, network, keyName, userdata }), 16));
  });
});

describe("Nova's create fields (pure)", () => {
  it('boots from the image, on the default network before 2.37, when nothing else is asked', () => {
    expect(createFields({ imageRef: 'i1', networks: [] })).toEqual({
      microversion: '2.36',
      fields: { imageRef: 'i1' },
    });
  });

  it('boots from a new volume made from the image, with the config drive and networks', () => {
    const out = createFields({
      imageRef: 'i1',
      networks: [{ uuid: 'n1' }, { port: 'p1' }],
      volume: { size: 5, deleteOnTermination: true },
      configDrive: true,
    });
    expect(out).toEqual({
      microversion: '2.47',
      fields: {
        block_device_mapping_v2: [
          {
            boot_index: 0,
            uuid: 'i1',
            source_type: 'image',
            destination_type: 'volume',
            volume_size: 5,
            delete_on_termination: true,
          },
        ],
        config_drive: true,
        networks: [{ uuid: 'n1' }, { port: 'p1' }],
      },
    });
  });

  it('asks 2.67 for a volume type, and the default network as `auto` there', () => {
    const out = createFields({
      imageRef: 'i1',
      networks: [],
      volume: { size: 5, type: 'ssd', deleteOnTermination: false },
    });
    expect(out.microversion).toBe('2.67');
    expect(out.fields.networks).toBe('auto');
    expect((out.fields.block_device_mapping_v2 as Record<string, unknown>[])[0]).toMatchObject({
      volume_type: 'ssd',
      delete_on_termination: false,
    });
  });

  it('refuses a volume without an image, with a catalogue code', () => {
    expect(() => createFields({ networks: [], volume: { size: 5, deleteOnTermination: true } })).toThrow(
      expect.objectContaining({ code: 'openstack_resolve_0001' }),
    );
  });

  it('resolves network names of `networks` and keeps fixed IPs and ports', async () => {
    const ids: Record<string, string> = { front: 'n-front', back: 'n-back' };
    const out = await nicEntries(
      [{ network: 'front' }, { network: 'back', fixedIp: '10.0.0.9' }, { port: 'p1' }],
      async (ref) => ids[ref] ?? ref,
    );
    expect(out).toEqual([{ uuid: 'n-front' }, { uuid: 'n-back', fixed_ip: '10.0.0.9' }, { port: 'p1' }]);
  });
});
