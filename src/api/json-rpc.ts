import type { Operations } from '../daemon/operations.js';
import { META_PRESET, META_TIMED_SHUTDOWN, type Vm } from '../drivers/types.js';
import type { ErrorCode } from '../errors/codes.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { assertCanOperate, assertCanRead, type Caller } from '../http/auth.js';
import type { StateReader } from '../http/state-reader.js';
import type { Preset } from '../presets/preset.js';
import type { CloudBudget } from './cloud-budget.js';

/** The original's seven methods, their parameter names (in order, for positional params) and whether they act. */
const METHODS: Record<string, { params: string[]; mutates: boolean }> = {
  list_presets: { params: [], mutates: false },
  list_presets_with_tags: { params: [], mutates: false },
  get_preset_tags: { params: ['preset'], mutates: false },
  list_vms: { params: ['preset'], mutates: false },
  terminate_vm: { params: ['preset', 'vm_id'], mutates: true },
  get_vm_metadata: { params: ['preset', 'vm_id'], mutates: false },
  get_vm_ip: { params: ['preset_name', 'vm_id'], mutates: false },
};

/** The original's state words, for scripts that compare them. */
const ORIGINAL_STATE: Record<string, string> = {
  expiring: 'nearby_shutdown',
  expired: 'after_time_shutdown',
  dead: 'terminated',
  stuck: 'pending',
  quiesced: 'terminated',
  scrubbing: 'terminated',
  scrubbed: 'terminated',
  quarantined: 'terminated',
  quarantine_expired: 'terminated',
  deleting: 'terminated',
};

interface RpcRequest {
  jsonrpc?: unknown;
  method?: unknown;
  params?: unknown;
  id?: unknown;
}

export interface RpcDeps {
  daemon: Operations;
  reader: StateReader;
  caller: Caller;
  /** The API's own share of cloud calls, for look-ups the snapshot cannot answer. */
  budget: CloudBudget;
}

/** Calls in one batch: each may cost a cloud look-up, so one request cannot ask for thousands. */
export const MAX_BATCH = 100;

/**
 * JSON-RPC 2.0 as the original served it at POST /api (single calls and batches). Application errors
 * are `-32000` as in the original, with the catalogue code in `error.data.code`.
 */
export async function handleRpc(body: unknown, deps: RpcDeps): Promise<unknown> {
  if (Array.isArray(body)) {
    if (body.length === 0) return rpcError(null, -32600, 'empty batch');
    if (body.length > MAX_BATCH) {
      const e = new ShepherdError('api_rpc_0002', `${body.length} calls, at most ${MAX_BATCH}`);
      return rpcError(null, -32600, e.message, { code: e.code });
    }
    const answers = await Promise.all(body.map((b) => one(b as RpcRequest, deps)));
    return answers.filter((a) => a !== undefined);
  }
  return (await one(body as RpcRequest, deps)) ?? '';
}

async function one(req: RpcRequest, deps: RpcDeps): Promise<unknown> {
  if (typeof req !== 'object' || req === null || typeof req.method !== 'string') {
    return rpcError(null, -32600, 'invalid request: expected {jsonrpc: "2.0", method, params, id}');
  }
  const id = req.id === undefined ? null : req.id;
  const notification = req.id === undefined;
  const allowed = deps.daemon.http().allowedMethods;
  const spec = Object.hasOwn(METHODS, req.method) ? METHODS[req.method] : undefined;
  if (!spec || (allowed && !allowed.includes(req.method))) {
    const e = new ShepherdError('api_rpc_0001', req.method);
    return rpcError(id, -32601, e.message, { code: e.code });
  }
  let params: Record<string, unknown>;
  if (Array.isArray(req.params))
    params = Object.fromEntries(spec.params.map((p, i) => [p, req.params && (req.params as unknown[])[i]]));
  else if (req.params === undefined || req.params === null) params = {};
  else if (typeof req.params === 'object') params = req.params as Record<string, unknown>;
  else return rpcError(id, -32602, 'params must be an array or an object');
  for (const p of spec.params) {
    if (typeof params[p] !== 'string' || params[p] === '')
      return rpcError(id, -32602, `missing or invalid param: ${p} (expected a string)`, {
        code: 'api_request_0001',
      });
  }
  try {
    if (spec.mutates) assertCanOperate(deps.daemon.http(), deps.caller);
    else assertCanRead(deps.daemon.http(), deps.caller);
    const result = await call(req.method, params as Record<string, string>, deps);
    return notification ? undefined : { jsonrpc: '2.0', result, id };
  } catch (err) {
    const e = asShepherdError(err, 'api_request_1001');
    return rpcError(id, -32000, e.message, { code: e.code });
  }
}

function rpcError(id: unknown, code: number, message: string, data?: Record<string, unknown>) {
  return { jsonrpc: '2.0', error: { code, message, ...(data ? { data } : {}) }, id };
}

function presetOf(daemon: Operations, name: string): Preset {
  const preset = daemon.preset(name);
  if (!preset) throw new ShepherdError('cli_preset_1001', name);
  return preset;
}

async function call(method: string, p: Record<string, string>, deps: RpcDeps) {
  const { daemon, reader, caller } = deps;
  switch (method) {
    case 'list_presets':
      return daemon.presets().map((x) => x.name);
    case 'list_presets_with_tags':
      return Object.fromEntries(daemon.presets().map((x) => [x.name, x.metaTags]));
    case 'get_preset_tags':
      return presetOf(daemon, p.preset as string).metaTags;
    case 'list_vms': {
      const preset = presetOf(daemon, p.preset as string);
      const state = await reader.state(preset.name);
      const vms = Object.fromEntries(
        state.vms.map((vm) => [
          vm.id,
          { ip: vm.ips[0] ?? null, state: ORIGINAL_STATE[vm.state] ?? vm.state, created: vm.createdAt },
        ]),
      );
      // A count that follows demand: the count its last manage decided (docs/demand.md).
      return [preset.demand ? (state.demand?.count ?? preset.count) : preset.count, vms];
    }
    case 'terminate_vm': {
      const preset = presetOf(daemon, p.preset as string);
      // The original answered once the VM was terminated: the task is waited for (a minute at most).
      const task = await daemon.requestTask(preset.name, 'terminate', caller.name, { vm: p.vm_id as string });
      const ended = await daemon.taskEnded(task.id, 60_000);
      reader.forget(preset.name);
      if (ended.error) throw new ShepherdError(ended.error.code as ErrorCode, ended.error.message);
      if (ended.state !== 'done')
        throw new ShepherdError('vm_verb_2001', `task ${task.id} is still ${ended.state}`);
      return 'OK';
    }
    case 'get_vm_metadata':
      return originalVmMetadata(await vmOf(deps, p.preset as string, p.vm_id as string));
    case 'get_vm_ip': {
      const known = await snapshotVm(deps, p.preset_name as string, p.vm_id as string);
      if (known) return { vm_ip: known.ips[0] ?? null };
      const vm = await vmOf(deps, p.preset_name as string, p.vm_id as string);
      return { vm_ip: vm.ips[0] ?? null };
    }
  }
  throw new ShepherdError('api_rpc_0001', method);
}

/**
 * `get_vm_metadata` as the original built it: the VM's metadata, plus `tags` (the server's own tags as the
 * cloud gave them, `[]` when none; not the preset's meta_tags) and `iaas_shutdown` (the integer in
 * `iaas_timed_shutdown`, else null).
 */
export function originalVmMetadata(vm: Vm): Record<string, unknown> {
  const shutdown = vm.metadata[META_TIMED_SHUTDOWN]?.trim() ?? '';
  return {
    ...vm.metadata,
    tags: vm.tags ?? [],
    // The original's int() accepted only whole numbers (and failed the call otherwise).
    iaas_shutdown: /^[-+]?\d+$/.test(shutdown) ? Number(shutdown) : null,
  };
}

/**
 * The VM as the loop's last snapshot of the preset lists it (the VMs it manages, after its actions), or
 * undefined when the snapshot does not hold it alive: then only the cloud can say.
 */
async function snapshotVm({ daemon, reader }: RpcDeps, presetName: string, vmId: string) {
  const preset = presetOf(daemon, presetName);
  const state = await reader.state(preset.name);
  return state.vms.find((vm) => vm.id === vmId && vm.state !== 'terminated');
}

/**
 * A VM of the named preset, asked of the cloud within the API's budget (a VM of another preset is not
 * found, never shown).
 */
async function vmOf({ daemon, budget }: RpcDeps, presetName: string, vmId: string) {
  const preset = presetOf(daemon, presetName);
  const vm = await budget.run(() => daemon.cloudVm(preset, vmId));
  if (!vm || vm.metadata[META_PRESET] !== preset.name)
    throw new ShepherdError('vm_verb_0002', `${vmId} in ${preset.name}`);
  return vm;
}
