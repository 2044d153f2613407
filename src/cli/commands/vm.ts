import type { Task } from '../../daemon/tasks.js';
import { ShepherdError } from '../../errors/shepherd-error.js';
import { VERB_NAMES } from '../../reconcile/verbs.js';
import { type ApiTarget, callApi } from '../api-client.js';
import { type OutputFormat, print, printJson } from '../output.js';

/**
 * `vmshepherd vm <verb> <preset> <vm-id>`: asks the running daemon (through its API, with an operate
 * token) to run a verb; prints the task. `--wait` follows it until done or failed (exit 1 when failed).
 */
export async function vmCommand(
  verb: string,
  preset: string,
  vmId: string,
  target: ApiTarget,
  output: OutputFormat,
  wait: boolean,
): Promise<number> {
  if (!(VERB_NAMES as readonly string[]).includes(verb)) {
    throw new ShepherdError('cli_args_1001', `unknown verb ${verb}: expected ${VERB_NAMES.join(', ')}`);
  }
  const path = `/api/v1/presets/${encodeURIComponent(preset)}/vms/${encodeURIComponent(vmId)}/${verb}`;
  let task = await callApi<Task>(target, 'POST', path);
  while (wait && (task.state === 'queued' || task.state === 'running')) {
    await new Promise((r) => setTimeout(r, 250));
    task = await callApi<Task>(target, 'GET', `/api/v1/tasks/${task.id}`);
  }
  if (output === 'json') printJson(task);
  else print(taskLine(task));
  return task.state === 'failed' ? 1 : 0;
}

/** `vmshepherd tasks`: the verbs requested on VMs, newest first. */
export async function tasksCommand(
  preset: string | undefined,
  target: ApiTarget,
  output: OutputFormat,
): Promise<number> {
  const query = preset ? `?preset=${encodeURIComponent(preset)}` : '';
  const tasks = await callApi<Task[]>(target, 'GET', `/api/v1/tasks${query}`);
  if (output === 'json') printJson(tasks);
  else if (tasks.length === 0) print('no tasks');
  else for (const t of tasks) print(taskLine(t));
  return 0;
}

function taskLine(t: Task): string {
  const error = t.error ? `  ${t.error.code}: ${t.error.message}` : '';
  return `${t.id}  ${t.state.padEnd(7)}  ${t.verb.padEnd(7)}  ${t.preset}/${t.vm}  by ${t.by}  ${t.createdAt}${error}`;
}
