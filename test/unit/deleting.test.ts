import { describe, expect, it } from 'vitest';
import { DELETE_PATIENCE_MS } from '../../src/reconcile/classify.js';
import { type ManageDeps, managePreset } from '../../src/reconcile/manage-preset.js';
import { parseState } from '../../src/reconcile/state.js';
import { type Clock, systemClock } from '../../src/util/clock.js';
import { preset } from '../helpers/fixtures.js';
import { simManage } from '../helpers/sim-manage.js';

const events = async (deps: ManageDeps) => parseState(await deps.runtime.load('web')).events;

describe('a delete in flight', () => {
  it('is neither repeated, counted nor reported as dead while the cloud says it is being deleted', async () => {
    const { cloud, deps } = simManage({ delete_time: 60 });
    await managePreset(preset({ count: 5, healthcheck: null }), deps, { force: true });
    const one = preset({ count: 2, healthcheck: null });
    for (let i = 0; i < 4; i++) await managePreset(one, deps, { force: true });
    expect(cloud.callCount('terminate')).toBe(3); // one DELETE per surplus VM
    expect(cloud.peek().filter((v) => v.providerStatus === 'DELETING')).toHaveLength(3);
    const terminated = (await events(deps)).filter((e) => e.type === 'terminated');
    expect(terminated).toHaveLength(3);
    expect(terminated.every((e) => e.reason.startsWith('surplus: count is 2'))).toBe(true);
    const state = parseState(await deps.runtime.load('web'));
    expect(state.vms.filter((v) => v.state === 'deleting')).toHaveLength(3);
    expect(state.status?.counts).toMatchObject({ running: 2, deleting: 3 });
    expect(cloud.callCount('create')).toBe(5); // the ones on their way out are not replaced
  });

  it('does not hold back the replacement of a VM being deleted', async () => {
    const { cloud, deps } = simManage({ delete_time: 60 });
    const p = preset({
      count: 2,
      healthcheck: null,
      update: { strategy: 'replace', maxSurge: 0, maxUnavailable: 0, minReadyMs: 0 },
    });
    await managePreset(p, deps, { force: true });
    await cloud.terminate(cloud.peek()[0]!.id); // deleted behind the daemon's back, still listed
    await managePreset(p, deps, { force: true });
    expect(cloud.peek().filter((v) => v.providerStatus === 'ACTIVE')).toHaveLength(2);
  });

  it('is not repeated when the cloud still lists a VM this preset deleted, until the patience runs out', async () => {
    let skew = 0;
    const clock: Clock = { now: () => Date.now() + skew, sleep: systemClock.sleep };
    let deletes = 0;
    const { cloud, deps } = simManage({}, { terminate: async () => void deletes++ }, clock); // accepted, not done
    await managePreset(preset({ count: 3, healthcheck: null }), deps, { force: true });
    const two = preset({ count: 2, healthcheck: null });
    await managePreset(two, deps, { force: true });
    await managePreset(two, deps, { force: true });
    expect(deletes).toBe(1);
    expect(cloud.size()).toBe(3);
    expect((await events(deps)).filter((e) => e.type === 'terminated')).toHaveLength(1);
    skew = DELETE_PATIENCE_MS + 1000;
    await managePreset(two, deps, { force: true });
    expect(deletes).toBe(2); // long past the patience, still there: asked again
  });
});
