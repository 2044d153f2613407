import { afterEach, describe, expect, it } from 'vitest';
import { formatPreview } from '../../src/cli/commands/plan.js';
import type { Daemon } from '../../src/daemon/daemon.js';
import { vmViewOf } from '../../src/http/views.js';
import { parseState } from '../../src/reconcile/state.js';
import { afterCycle, cloudVms, eventually, running, taskEnded, testDaemon } from '../helpers/daemon.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

// sick_every: 2: the second VM the check sees is sick, and so is the fourth (the first one's replacement).
const settings = (ttl: string) => `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0.001, boot_time: 0.05, stop_time: 0.05}
  healthcheck:
    driver: DummyHealthcheck
    sick_every: 2
    unhealthy_threshold: 1
    terminate_heatlh_failed_delay: 0
    quarantine: {keep: 1, ttl: ${ttl}}
`;

const web = 'name: web\ncount: 3\nimage: img-1\nmanage_interval: 0\n';

async function quarantinedOne(ttl: string) {
  const t = await testDaemon(settings(ttl), { 'web.conf': web });
  daemon = t.daemon;
  const d = t.daemon;
  const state = await eventually(
    afterCycle(d, async () => parseState(await d.runtime.load('web'))),
    (s) => s.events.some((e) => e.type === 'quarantined'),
    15_000,
  );
  const event = state.events.find((e) => e.type === 'quarantined')!;
  return { d, id: event.vm!, event };
}

describe('quarantine on the simulated cloud', () => {
  it('stops and keeps an unhealthy VM, replaces it at once, replaces the next one as usual, and deletes it after the ttl', async () => {
    const { d, id, event } = await quarantinedOne('6s');
    expect(event.reason).toMatch(/quarantined until .* \(keep 1 of 1\), replaced: 1 failed checks/);
    expect(event.data?.until).toEqual(expect.any(String));
    // The quarantined VM is stopped and kept; the fourth VM (its replacement) turns sick and, the
    // quarantine being full, is deleted; three VMs serve.
    const vms = await eventually(
      afterCycle(d, () => cloudVms().get('web') ?? []),
      (v) => v.find((x) => x.id === id)?.state === 'stopped' && running(v) === 3 && v.length === 4,
      15_000,
    );
    expect(vms.find((v) => v.id === id)?.metadata.vmshepherd_quarantined).toBe(event.data?.until);
    const state = parseState(await d.runtime.load('web'));
    expect(state.lifecycle?.[id]).toMatchObject({ state: 'quarantined', by: 'healthcheck' });
    expect(state.vms.find((v) => v.id === id)?.state).toBe('quarantined');
    const deleted = state.events.filter((e) => e.type === 'terminated');
    expect(deleted.map((e) => e.reason.split(':')[0])).toEqual(['unhealthy']);
    expect(deleted[0]!.vm).not.toBe(id);
    expect(state.events.filter((e) => e.type === 'quarantined')).toHaveLength(1);
    // The API's view of the VM says so.
    const view = state.vms.find((v) => v.id === id)!;
    expect(vmViewOf(d.preset('web')!, state, view, Date.now()).lifecycle).toBe('quarantined');

    expect(await d.metrics.registry.metrics()).toMatch(/^vmshepherd_quarantined\{preset="web"\} 1$/m);
    // plan explains the VM kept and what it waits for.
    const text = formatPreview((await d.plan('web'))[0]!);
    expect(text).toContain(`kept ${id}  (quarantined at`);

    // After the ttl: deleted, not replaced (it was not counted).
    const after = await eventually(
      afterCycle(d, async () => parseState(await d.runtime.load('web'))),
      (s) => s.events.some((e) => e.type === 'terminated' && e.vm === id),
      15_000,
    );
    const expired = after.events.find((e) => e.type === 'terminated' && e.vm === id)!;
    expect(expired.reason).toMatch(/^quarantine_expired: quarantined at .* ttl ended/);
    await eventually(
      afterCycle(d, () => cloudVms().get('web') ?? []),
      (v) => !v.some((x) => x.id === id) && v.length === 3 && running(v) === 3,
      10_000,
    );
    expect(parseState(await d.runtime.load('web')).lifecycle?.[id]).toBeUndefined();
  });

  it("an operator's terminate deletes a quarantined VM before its ttl", async () => {
    const { d, id } = await quarantinedOne('1h');
    const task = await d.requestTask('web', 'terminate', 'ops', { vm: id });
    expect((await taskEnded(d, task.id)).state).toBe('done');
    await eventually(
      afterCycle(d, () => cloudVms().get('web') ?? []),
      (v) => !v.some((x) => x.id === id),
      10_000,
    );
    const state = parseState(await d.runtime.load('web'));
    expect(state.lifecycle?.[id]).toBeUndefined();
    expect(state.events.some((e) => e.type === 'terminated' && e.vm === id && /by ops/.test(e.reason))).toBe(
      true,
    );
  });
});
