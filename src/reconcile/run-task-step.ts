import { META_PRESET, type TaskRecord, type Vm } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import { capabilitiesOf } from './apply.js';
import type { LeaseKeeper } from './lease-keeper.js';
import { recordTask } from './record-task.js';
import { lifecycleIn, updateInPlace } from './run-verb.js';
import { parseState } from './state.js';
import type { StepResult, TaskDeps } from './task-deps.js';
import { decideVerb, type VerbName } from './verbs.js';

/** Runs one step of a task against the cloud (or the preset's state, `record`), under the lease. */
export async function runTaskStep(
  name: string,
  preset: Preset,
  t: TaskRecord,
  interrupted: boolean,
  lease: LeaseKeeper,
  deps: TaskDeps,
): Promise<StepResult> {
  const signal = lease.signal;
  const vmId = t.vm ?? '';
  const vmOf = async () => {
    const vm = await deps.cloud.get(vmId, { signal });
    if (!vm || vm.metadata[META_PRESET] !== preset.name)
      throw new ShepherdError('vm_verb_0002', `${vmId} in ${preset.name}`, { details: { vm: vmId } });
    return vm;
  };
  switch (name) {
    case 'check': {
      const vm = await vmOf();
      if (t.verb === 'terminate') return handsOver(preset, vm) ? { data: { handover: 1 } } : {};
      const state = parseState(await deps.runtime.load(preset.name));
      const d = decideVerb(t.verb as VerbName, lifecycleIn(state, vmId), capabilitiesOf(deps.cloud));
      return { data: { from: d.transition.from, to: d.transition.to, op: d.op } };
    }
    case 'terminate':
      if (t.data?.handover) return { skipped: true, note: HANDOVER_NOTE };
      // Idempotent by the driver contract: a VM already gone is a success.
      lease.assertValid();
      await deps.cloud.terminate(vmId, { signal });
      deps.logger.info({ vm: vmId, by: t.by, task: t.id, fence: lease.token }, 'terminated VM on request');
      return {};
    case 'stop': {
      const vm = await vmOf();
      if (vm.state === 'stopped') return { skipped: true, note: 'already stopped' };
      lease.assertValid();
      await deps.cloud.verb('stop', vmId, undefined, { signal });
      return {};
    }
    case 'start': {
      const vm = await vmOf();
      if (vm.state === 'running' || vm.state === 'pending')
        return { skipped: true, note: `already ${vm.state}` };
      lease.assertValid();
      await deps.cloud.verb('start', vmId, undefined, { signal });
      return {};
    }
    case 'reboot': {
      await vmOf();
      // Whether the interrupted call reached the cloud cannot be told: a reboot is never sent twice.
      if (interrupted) return { skipped: true, note: 'interrupted: not repeated' };
      lease.assertValid();
      await deps.cloud.verb('reboot', vmId, undefined, { signal });
      return {};
    }
    case 'update': {
      const vm = await vmOf();
      lease.assertValid();
      const op = await updateInPlace(preset, vm, capabilitiesOf(deps.cloud), deps.cloud, lease);
      return op ? { note: op } : { skipped: true, note: 'already at the current spec' };
    }
    case 'wait stopped': {
      const until = deps.clock.now() + (deps.waitMs ?? 300_000);
      for (;;) {
        const vm = await vmOf();
        if (vm.state === 'stopped') return {};
        if (deps.clock.now() >= until)
          throw new ShepherdError('vm_verb_2002', `${vmId} is ${vm.state}, not stopped`, {
            details: { vm: vmId, state: vm.state },
          });
        await deps.clock.sleep(deps.pollMs ?? 1000, signal);
      }
    }
    case 'record':
      return recordTask(preset, t, lease, deps);
    default:
      throw new ShepherdError('reconcile_manage_1001', `unknown step ${name} of task ${t.id}`);
  }
}

const HANDOVER_NOTE = 'handed to the loop: deleted after its before_terminate hook';

/**
 * A terminate on a preset with a before_terminate hook is handed to the loop (lifecycle `terminating`),
 * which runs the hook first as for its own terminations; a dead VM needs no hook and goes at once.
 */
function handsOver(preset: Preset, vm: Vm): boolean {
  return preset.hooks?.beforeTerminate !== undefined && vm.state !== 'terminated' && vm.state !== 'error';
}
