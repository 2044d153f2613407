import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import type { OpenStackCloud } from '../../src/drivers/iaas/openstack/openstack-cloud.js';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';
import { parseState } from '../../src/reconcile/state.js';
import { testDaemon } from '../helpers/daemon.js';
import {
  activeServers,
  convergeServers,
  emptyProject,
  FLAVOR,
  IMAGE,
  iaasBlock,
  labCloud,
  NETWORK,
} from './lab.js';

let demoCloud: OpenStackCloud;
let daemon: Daemon | undefined;

beforeAll(() => {
  demoCloud = labCloud('demo');
});
beforeEach(async () => {
  await emptyProject(demoCloud);
});
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});
afterAll(async () => {
  await emptyProject(demoCloud);
  await demoCloud.close();
});

// The second server the simulated check sees is sick for good; the third (its replacement) is well.
const settings = `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: ${iaasBlock()}
  healthcheck:
    driver: DummyHealthcheck
    sick_every: 2
    unhealthy_threshold: 1
    terminate_heatlh_failed_delay: 0
    quarantine: {keep: 1, ttl: 20s}
`;
const preset = `name: lab-quar
count: 2
image: ${IMAGE}
flavor: ${FLAVOR}
manage_interval: 0
network: {subnet: [${NETWORK}]}
`;

const shutoff = (s: NovaServer[]) => s.filter((x) => x.status === 'SHUTOFF');

describe('quarantine on the OpenStack lab', () => {
  it('stops an unhealthy server and keeps it, replaced at once, then deletes it after the ttl', async () => {
    const t = await testDaemon(settings, { 'quar.conf': preset });
    daemon = t.daemon;
    const d = t.daemon;
    // Nova shows the sick server stopped (SHUTOFF) and marked, beside two active ones.
    const kept = await convergeServers(
      d,
      demoCloud,
      'lab-quar',
      (s) => shutoff(s).length === 1 && activeServers(s).length === 2 && s.length === 3,
      150_000,
    );
    const sick = shutoff(kept)[0]!;
    expect(sick.metadata?.vmshepherd_quarantined).toMatch(/^\d{4}-\d\d-\d\dT/);
    const state = parseState(await d.runtime.load('lab-quar'));
    expect(state.lifecycle?.[sick.id]).toMatchObject({ state: 'quarantined', by: 'healthcheck' });
    expect(state.events.filter((e) => e.type === 'quarantined').map((e) => e.vm)).toEqual([sick.id]);
    expect(state.events.some((e) => e.type === 'terminated')).toBe(false); // stopped, not deleted

    // After the ttl Nova no longer lists it, and two active servers remain (it was not counted).
    const after = await convergeServers(
      d,
      demoCloud,
      'lab-quar',
      (s) => !s.some((x) => x.id === sick.id) && activeServers(s).length === 2 && s.length === 2,
      120_000,
    );
    expect(after.map((s) => s.id)).not.toContain(sick.id);
    const events = parseState(await d.runtime.load('lab-quar')).events;
    const deleted = events.filter((e) => e.type === 'terminated');
    expect(deleted.map((e) => [e.vm, e.reason.split(':')[0]])).toEqual([[sick.id, 'quarantine_expired']]);
    const quarantinedAt = Date.parse(events.find((e) => e.type === 'quarantined')!.at);
    expect(Date.parse(deleted[0]!.at) - quarantinedAt).toBeGreaterThanOrEqual(20_000);
  });
});
