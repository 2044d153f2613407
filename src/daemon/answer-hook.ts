import type { RuntimeStore, TaskStore } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { HookAnswer } from '../reconcile/hooks.js';
import { parseState } from '../reconcile/state.js';
import type { Clock } from '../util/clock.js';
import { newTask, type Task } from './tasks.js';

export interface AnswerHookDeps {
  preset(name: string): Preset | undefined;
  runtime: RuntimeStore;
  tasks: TaskStore;
  clock: Clock;
  markDue(preset: string): void;
}

/**
 * A receiver's answer to a VM's before_terminate hook, queued as a `hook` task: whichever instance holds
 * the preset's lease records it (fenced like every write of the preset's state) and manages at once.
 * Refused here when no hook waits for the VM (`api_hook_0001`), before anything is stored.
 */
export async function answerHook(
  deps: AnswerHookDeps,
  presetName: string,
  vmId: string,
  answer: HookAnswer,
  by: string,
): Promise<Task> {
  const preset = deps.preset(presetName);
  if (!preset) throw new ShepherdError('cli_preset_1001', presetName);
  const state = parseState(await deps.runtime.load(preset.name));
  const wait = state.hooks?.[vmId];
  if (!wait || wait.answer || !preset.hooks?.beforeTerminate)
    throw new ShepherdError('api_hook_0001', `${vmId} in ${preset.name}`);
  const task: Task = {
    ...newTask({ preset: preset.name, vm: vmId, verb: 'hook', by }, deps.clock.now()),
    data: { result: answer, hook: wait.id },
  };
  const { task: submitted } = await deps.tasks.submitTask(task);
  deps.markDue(preset.name);
  return submitted;
}
