import { describe, expect, it } from 'vitest';
import { type IaasDriver, META_PRESET, META_SPEC, type Vm, type VmSpec } from '../drivers/types.js';

export interface IaasContractSubject {
  driver: IaasDriver;
  /** Image and flavor the cloud knows. */
  image?: string;
  flavor?: string;
  close?: () => Promise<void>;
}

export interface IaasContractOptions {
  /** How long a VM may take to become running. */
  bootTimeoutMs: number;
  pollMs?: number;
}

let n = 0;
export function specFor(
  preset: string,
  subject: Pick<IaasContractSubject, 'image' | 'flavor'>,
  extra: Partial<VmSpec> = {},
): VmSpec {
  n++;
  return {
    preset,
    name: `${preset}-${n}`,
    ...(subject.image ? { image: subject.image } : {}),
    ...(subject.flavor ? { flavor: subject.flavor } : {}),
    network: { securityGroups: [], subnets: [] },
    metadata: { [META_PRESET]: preset, [META_SPEC]: 'contract', team: 'contract' },
    specHash: 'contract',
    ...extra,
  };
}

async function until<T>(
  fn: () => Promise<T>,
  ok: (v: T) => boolean,
  timeoutMs: number,
  pollMs: number,
): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (ok(v) || Date.now() > end) return v;
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

/**
 * What every IaaS driver must do, whatever the cloud. Run by each driver's own test file with a factory
 * that gives a fresh subject (an empty account, or presets with unique names).
 */
export function iaasContract(
  name: string,
  make: () => Promise<IaasContractSubject>,
  o: IaasContractOptions,
): void {
  const poll = o.pollMs ?? 50;
  const unique = (p: string) => `${p}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  const c: Ctx = { make, o, poll, unique };
  describe(`IaaS contract: ${name}`, () => {
    createCases(c);
    lifecycleCases(c);
  });
}

interface Ctx {
  make: () => Promise<IaasContractSubject>;
  o: IaasContractOptions;
  poll: number;
  unique: (p: string) => string;
}

function createCases({ make, o, poll, unique }: Ctx): void {
  it('creates a VM that lists under its preset, with its metadata, and becomes running', async () => {
    const s = await make();
    try {
      const preset = unique('contract-a');
      const created = await s.driver.create(specFor(preset, s), { idempotencyKey: `${preset}/1` });
      expect(created.id).toBeTruthy();
      expect(created.metadata[META_PRESET]).toBe(preset);
      expect(Number.isNaN(Date.parse(created.createdAt))).toBe(false);
      const running = await until(
        () => s.driver.get(created.id),
        (v) => v?.state === 'running',
        o.bootTimeoutMs,
        poll,
      );
      expect(running?.state).toBe('running');
      expect(running?.ips.length).toBeGreaterThan(0);
      expect(running?.metadata).toMatchObject({
        [META_PRESET]: preset,
        [META_SPEC]: 'contract',
        team: 'contract',
      });
      const listed = await s.driver.list(preset);
      expect(listed.map((v) => v.id)).toEqual([created.id]);
      if (s.driver.listAll) expect((await s.driver.listAll()).map((v) => v.id)).toContain(created.id);
      if (s.driver.listAllByPreset) {
        // The grouped listing holds the preset's VMs as they are when taken: running by now.
        const group = (await s.driver.listAllByPreset()).get(preset)?.();
        expect(group?.map((v) => [v.id, v.state])).toEqual([[created.id, 'running']]);
      }
    } finally {
      await s.close?.();
    }
  });

  it('keeps presets apart by metadata, not by name', async () => {
    const s = await make();
    try {
      const a = unique('contract-same');
      const b = `${a}-b`;
      const va = await s.driver.create(specFor(a, s, { name: `${a}-x` }), { idempotencyKey: `${a}/1` });
      const vb = await s.driver.create(specFor(b, s, { name: `${a}-x` }), { idempotencyKey: `${b}/1` });
      expect((await s.driver.list(a)).map((v: Vm) => v.id)).toEqual([va.id]);
      expect((await s.driver.list(b)).map((v: Vm) => v.id)).toEqual([vb.id]);
    } finally {
      await s.close?.();
    }
  });

  it('does not create twice for one idempotency key', async () => {
    const s = await make();
    try {
      const preset = unique('contract-idem');
      const first = await s.driver.create(specFor(preset, s), { idempotencyKey: `${preset}/same` });
      const again = await s.driver.create(specFor(preset, s), { idempotencyKey: `${preset}/same` });
      expect(again.id).toBe(first.id);
      expect(await s.driver.list(preset)).toHaveLength(1);
    } finally {
      await s.close?.();
    }
  });
}

function lifecycleCases({ make, o, poll, unique }: Ctx): void {
  it('terminates idempotently: gone is success', async () => {
    const s = await make();
    try {
      const preset = unique('contract-term');
      const vm = await s.driver.create(specFor(preset, s), { idempotencyKey: `${preset}/1` });
      await s.driver.terminate(vm.id);
      await s.driver.terminate(vm.id);
      const gone = await until(
        () => s.driver.list(preset),
        (l) => l.every((v) => v.id !== vm.id || v.state === 'terminated'),
        o.bootTimeoutMs,
        poll,
      );
      expect(gone.filter((v) => v.id === vm.id && v.state !== 'terminated')).toEqual([]);
      const got = await s.driver.get(vm.id);
      expect(got === null || got.state === 'terminated').toBe(true);
    } finally {
      await s.close?.();
    }
  });

  it('answers null for an unknown VM and an empty list for an unknown preset', async () => {
    const s = await make();
    try {
      expect(await s.driver.get('00000000-0000-4000-8000-000000000000')).toBeNull();
      expect(await s.driver.list(unique('contract-none'))).toEqual([]);
    } finally {
      await s.close?.();
    }
  });
}
