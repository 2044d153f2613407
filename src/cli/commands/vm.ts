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
  idempotencyKey?: string,
): Promise<number> {
  if (!(VERB_NAMES as readonly string[]).includes(verb)) {
    throw new ShepherdError('cli_args_1001', `unknown verb ${verb}: expected ${VERB_NAMES.join(', ')}`);
  }
  const path = `/api/v1/presets/${encodeURIComponent(preset)}/vms/${encodeURIComponent(vmId)}/${verb}`;
  let task = await callApi<Task>(
    target,
    'POST',
    path,
    idempotencyKey ? { 'idempotency-key': idempotencyKey } : {},
  );
  while (wait && (task.state === 'queued' || task.state === 'running')) {
    await new Promise((r) => setTimeout(r, 250));
    task = await callApi<Task>(target, 'GET', `/api/v1/tasks/${task.id}`);
  }
  if (output === 'json') printJson(task);
  else print(taskLine(task));
  return task.state === 'failed' ? 1 : 0;
}

/**
 * `vmshepherd tasks`: the verbs requested on VMs through any instance, newest first; with an id, that task
 * and its steps (`--cancel`: cancelled, while it is queued).
 */
export async function tasksCommand(
  o: { preset?: string | undefined; active?: boolean; id?: string | undefined; cancel?: boolean },
  target: ApiTarget,
  output: OutputFormat,
): Promise<number> {
  if (o.cancel && o.id === undefined) throw new ShepherdError('cli_args_1001', '--cancel needs a task id');
  if (o.id !== undefined) {
    const path = `/api/v1/tasks/${encodeURIComponent(o.id)}${o.cancel ? '/cancel' : ''}`;
    const task = await callApi<Task>(target, o.cancel ? 'POST' : 'GET', path);
    if (output === 'json') printJson(task);
    else {
      print(taskLine(task));
      for (const s of task.steps)
        print(
          `  ${s.at}  ${s.name.padEnd(12)}  ${s.state.padEnd(7)}  ${s.instance} (fence ${s.token})${s.note ? `  ${s.note}` : ''}`,
        );
    }
    return task.state === 'failed' ? 1 : 0;
  }
  const params = new URLSearchParams();
  if (o.preset) params.set('preset', o.preset);
  if (o.active) params.set('active', 'true');
  const query = params.size > 0 ? `?${params}` : '';
  const tasks = await callApi<Task[]>(target, 'GET', `/api/v1/tasks${query}`);
  if (output === 'json') printJson(tasks);
  else if (tasks.length === 0) print('no tasks');
  else for (const t of tasks) print(taskLine(t));
  return 0;
}

function taskLine(t: Task): string {
  const error = t.error
    ? `  ${t.error.code}${t.error.step ? ` at ${t.error.step}` : ''}: ${t.error.message}`
    : '';
  const ran = t.executor ? `  ran by ${t.executor}${t.attempts > 1 ? ` (attempt ${t.attempts})` : ''}` : '';
  return `${t.id}  ${t.state.padEnd(9)}  ${t.verb.padEnd(7)}  ${t.preset}${t.vm ? `/${t.vm}` : ''}  by ${t.by}  ${t.createdAt}${ran}${error}`;
}
