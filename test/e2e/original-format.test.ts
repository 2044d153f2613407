import { cpSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import type { Daemon } from '../../src/daemon/daemon.js';
import { META_PRESET, META_SPEC } from '../../src/drivers/types.js';
import { parseState } from '../../src/reconcile/state.js';
import { cloudVms, daemonIn, eventually, running } from '../helpers/daemon.js';
import { tempDir } from '../helpers/tmp.js';

let daemon: Daemon | undefined;
afterEach(async () => {
  await daemon?.stop();
  daemon = undefined;
});

describe("a directory of presets in the original's format", () => {
  it('is managed unchanged: both presets converge with the right VMs', async () => {
    const dir = tempDir();
    cpSync('test/fixtures/original', dir, { recursive: true });
    ({ daemon } = await daemonIn(dir));
    const d = daemon;
    await eventually(
      async () => {
        await d.runOnce();
        return cloudVms();
      },
      (vms) => running(vms.get('C_DEV-app-dev')) === 2 && running(vms.get('web-prod')) === 3,
      15_000,
    );
    const web = cloudVms().get('web-prod')!;
    expect(web.every((v) => v.flavor === 'm1.medium' && v.image === 'ubuntu-bionic')).toBe(true);
    expect(web[0]!.metadata).toMatchObject({
      [META_PRESET]: 'web-prod',
      service: 'web',
      owner: 'team-a',
      [META_SPEC]: d.catalog.get('web-prod')!.specHash,
    });
    const state = parseState(await d.runtime.load('web-prod'));
    expect(state.vms.map((v) => v.id).sort()).toEqual(web.map((v) => v.id).sort());
    expect(state.events.filter((e) => e.type === 'created')).toHaveLength(3);
    await d.runOnce();
    expect(parseState(await d.runtime.load('web-prod')).status?.phase).toBe('converged');
  });
});
