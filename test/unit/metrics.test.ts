import { describe, expect, it } from 'vitest';
import { Metrics } from '../../src/observability/metrics.js';
import type { ManageOutcome } from '../../src/reconcile/manage-preset.js';
import { emptyState, type PresetStatus, type VmSnapshot } from '../../src/reconcile/state.js';
import { afterCycle, cloudVms, eventually, running, testDaemon } from '../helpers/daemon.js';

describe('metrics', () => {
  it('count manages, actions, cloud calls and leases, and describe each preset', async () => {
    const { daemon } = await testDaemon(
      'runtime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets}\ndefaults:\n  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0.01}\n',
      { 'a.conf': 'name: a\ncount: 2\nmanage_interval: 0\n' },
    );
    try {
      await eventually(
        afterCycle(daemon, () => cloudVms().get('a')),
        (v) => running(v) === 2,
        5000,
      );
      await daemon.runOnce();
      const text = await daemon.metrics.registry.metrics();
      expect(text).toMatch(/vmshepherd_preset_desired_vms\{preset="a"\} 2/);
      expect(text).toMatch(/vmshepherd_preset_vms\{preset="a",state="running"\} 2/);
      expect(text).toMatch(/vmshepherd_actions_total\{action="create",outcome="ok"\} 2/);
      expect(text).toMatch(/vmshepherd_cloud_calls_total\{driver="DummyIaasDriver",verb="create"\} 2/);
      const value = (re: RegExp) => Number(re.exec(text)?.[1] ?? Number.NaN);
      // At least the two cycles run above (more when the VMs booted slowly).
      expect(value(/vmshepherd_lease_acquisitions_total\{taken_over="false"\} (\d+)/)).toBeGreaterThanOrEqual(
        2,
      );
      expect(
        value(/vmshepherd_manage_duration_seconds_count\{result="managed"\} (\d+)/),
      ).toBeGreaterThanOrEqual(2);
      expect(text).toMatch(/vmshepherd_presets 1/);
    } finally {
      await daemon.stop();
    }
  });
});

describe('preset gauges', () => {
  const status = (counts: Record<string, number>): PresetStatus => ({
    phase: 'converging',
    message: '',
    desired: 2,
    counts,
    guard: false,
  });
  const outcome = (s: PresetStatus, vms: VmSnapshot[] = []): ManageOutcome => ({
    preset: 'a',
    result: 'managed',
    created: 0,
    terminated: 0,
    failedActions: 0,
    lastManagedAt: 0,
    durationMs: 1,
    state: { ...emptyState(), status: s, vms },
  });
  const series = async (m: Metrics) =>
    (await m.registry.getSingleMetricAsString('vmshepherd_preset_vms'))
      .split('\n')
      .filter((l) => !l.startsWith('#'));

  it('drop the series of a state the preset no longer has, and all of a forgotten preset', async () => {
    const m = new Metrics();
    m.manage(outcome(status({ pending: 2 })));
    expect(await series(m)).toEqual(['vmshepherd_preset_vms{preset="a",state="pending"} 2']);
    const steady = status({ running: 2 });
    m.manage(outcome(steady));
    expect(await series(m)).toEqual(['vmshepherd_preset_vms{preset="a",state="running"} 2']);
    m.manage(outcome(steady));
    expect(await series(m)).toEqual(['vmshepherd_preset_vms{preset="a",state="running"} 2']);
    m.forgetPreset('a');
    expect(await series(m)).toEqual([]);
    expect(await m.registry.getSingleMetricAsString('vmshepherd_preset_desired_vms')).not.toMatch(
      /preset="a"/,
    );
  });
});
