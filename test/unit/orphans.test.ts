import { describe, expect, it } from 'vitest';
import { CloudAccount } from '../../src/daemon/cloud-account.js';
import { OrphanTracker, orphansAmong } from '../../src/daemon/orphans.js';
import { type IaasDriver, META_PRESET, META_REVISION, type Vm } from '../../src/drivers/types.js';
import type { RefreshReport } from '../../src/presets/preset-catalog.js';
import { quietLogger } from '../helpers/catalog.js';
import { preset, vm } from '../helpers/fixtures.js';

const tagged = (name: string, revision = 'c1') =>
  vm({ metadata: { [META_PRESET]: name, [META_REVISION]: revision } });
const report = (r: Partial<RefreshReport>): RefreshReport => ({
  added: [],
  changed: [],
  removed: [],
  compiled: 0,
  problems: [],
  ...r,
});

/** A cloud account over a driver that can only list one preset at a time (no listAll). */
function listOnlyAccount(vms: Vm[]): { account: CloudAccount; calls: string[] } {
  const calls: string[] = [];
  const driver: IaasDriver = {
    list: async (name) => {
      calls.push(name);
      return vms.filter((v) => v.metadata[META_PRESET] === name);
    },
    create: () => Promise.reject(new Error('not here')),
    terminate: () => Promise.reject(new Error('not here')),
    get: async () => null,
  };
  const account = new CloudAccount('acct', 'ListOnly', driver, { maxConcurrentCalls: 4, callsPerSecond: 0 });
  return { account, calls };
}

describe('orphan VMs', () => {
  it('are the VMs whose preset is not configured (VMs of no preset are not ours)', () => {
    const vms = [tagged('team.web'), tagged('team.db'), vm()];
    expect(orphansAmong(vms, new Set(['team.web'])).map((v) => v.metadata[META_PRESET])).toEqual(['team.db']);
  });

  it('are found per removed preset on an account that cannot list everything, with where the preset went', async () => {
    const web = preset({ name: 'team.web' });
    const db = preset({
      name: 'team.db',
      source: { id: 'team:db.conf', file: 'team@c1/db.conf', revision: 'c1' },
    });
    const { account, calls } = listOnlyAccount([tagged('team.web'), tagged('team.db'), tagged('team.db')]);
    const tracker = new OrphanTracker();
    tracker.note(
      [web, db],
      report({ removed: ['team.db'] }),
      Date.parse('2026-11-22T00:00:00Z'),
      quietLogger(),
    );
    const found = await tracker.list([web], async () => account);
    expect(found.errors).toEqual([]);
    expect(calls).toEqual(['team.db']);
    expect(found.vms).toHaveLength(2);
    expect(found.vms[0]).toMatchObject({
      preset: 'team.db',
      revision: 'c1',
      driver: 'ListOnly',
      removed: { at: '2026-11-22T00:00:00.000Z', file: 'team@c1/db.conf', revision: 'c1' },
    });

    // The preset comes back: its VMs are its own again.
    tracker.note([web], report({ added: ['team.db'] }), Date.now(), quietLogger());
    expect((await tracker.list([web, db], async () => account)).vms).toEqual([]);
  });

  it("reports a preset whose account cannot be had under the daemon's code for the unexpected", async () => {
    const found = await new OrphanTracker().list([preset({ name: 'team.web' })], async () => {
      throw new TypeError('no account');
    });
    expect(found.vms).toEqual([]);
    expect(found.errors.map((e) => e.code)).toEqual(['daemon_run_1001']);
  });
});
