import { describe, expect, it } from 'vitest';
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
