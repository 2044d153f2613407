import { z } from 'zod';
import type { Operations } from '../daemon/operations.js';
import type { ErrorCode } from '../errors/codes.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Caller } from '../http/auth.js';
import { Representation } from '../http/representation.js';
import type { StateReader } from '../http/state-reader.js';
import { eventsOf, presetDetailOf, presetSummaryOf, taskViewOf, vmViewOf } from '../http/views.js';
import type { Preset } from '../presets/preset.js';
import type { VerbName } from '../reconcile/verbs.js';
import { pageOf } from './preset-page.js';
import {
  eventsQuery,
  eventView,
  hookAnswerBody,
  presetDetail,
  presetPage,
  presetParams,
  presetsQuery,
  taskParams,
  tasksQuery,
  taskView,
  verbParams,
  vmParams,
  vmView,
} from './schemas.js';

const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * A JSON response rendered once per window and shared by its requests (`StateReader.memo`): encoded,
 * hashed for its ETag and compressed once instead of per request. `secret`: it holds userdata.
 */
export class RawJson extends Representation {
  constructor(value: unknown, secret = false) {
    super(JSON.stringify(value), JSON_TYPE, secret);
  }
}

export interface RouteContext {
  daemon: Operations;
  reader: StateReader;
  caller: Caller;
  params: Record<string, string>;
  query: Record<string, unknown>;
  /** The JSON body, validated by the route's `body` schema (empty without one). */
  body?: Record<string, unknown>;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

/** One REST route: its schemas serve both the validation and the OpenAPI document. */
export interface RouteDef {
  method: 'GET' | 'POST' | 'DELETE';
  /** Relative to /api/v1, fastify style (`:name`). */
  path: string;
  summary: string;
  access: 'read' | 'operate';
  params?: z.ZodObject;
  query?: z.ZodObject;
  body?: z.ZodObject;
  /** The catalogue code of an invalid parameter, by name, when it is not `api_request_0001`. */
  paramCodes?: Partial<Record<string, ErrorCode>>;
  response: z.ZodType;
  status?: number;
  handler: (ctx: RouteContext) => Promise<unknown>;
}

const now = () => Date.now();

/** The `Idempotency-Key` header of a submission, when given (at most 200 characters kept). */
function keyOf(headers: RouteContext['headers']): string | undefined {
  const key = headers['idempotency-key'];
  return typeof key === 'string' && key !== '' ? key.slice(0, 200) : undefined;
}

function presetOf(daemon: Operations, name: string): Preset {
  const preset = daemon.preset(name);
  if (!preset) throw new ShepherdError('cli_preset_1001', name);
  return preset;
}

export const REST_ROUTES: RouteDef[] = [
  {
    method: 'GET',
    path: '/presets',
    summary: 'The presets with their status at a glance, a page at a time in name order (follow `next`)',
    access: 'read',
    query: presetsQuery,
    paramCodes: { limit: 'api_page_0001', cursor: 'api_page_0001' },
    response: presetPage,
    handler: ({ reader, query }) => {
      const filter = `${query.q ?? ''}:${query.phase ?? ''}`;
      const page = `${filter}:${query.limit}:${query.cursor ?? ''}`;
      return reader.memo(`rest:presets:${page}`, async () => {
        // The filtered list is built once per window, whatever page is asked of it.
        const list = await reader.memo(`rest:presets-list:${filter}`, async () => {
          const q = (query.q as string | undefined)?.toLowerCase();
          return (await reader.all())
            .filter(({ preset }) => q === undefined || preset.name.toLowerCase().includes(q))
            .map(({ preset, state }) => presetSummaryOf(preset, state))
            .filter((s) => query.phase === undefined || s.phase === query.phase);
        });
        return new RawJson(pageOf(list, query.limit as number, query.cursor as string | undefined));
      });
    },
  },
  {
    method: 'GET',
    path: '/presets/:name',
    summary: 'One preset: spec, revision, conditions, counts by state, last and next manage',
    access: 'read',
    params: presetParams,
    response: presetDetail,
    handler: async ({ daemon, reader, params, caller }) => {
      const preset = presetOf(daemon, params.name as string);
      // Rendered userdata may carry secrets: only operators see it (and no cache keeps it).
      const operator = caller.role === 'operate';
      return reader.memo(`rest:preset:${preset.name}:${operator}`, async () => {
        const detail = presetDetailOf(preset, await reader.state(preset.name), operator);
        return new RawJson(detail, detail.userdata !== undefined);
      });
    },
  },
  {
    method: 'GET',
    path: '/presets/:name/vms',
    summary: "The preset's VMs as its last manage left them: state, health history, IPs, age, spec, fault",
    access: 'read',
    params: presetParams,
    response: z.array(vmView),
    handler: async ({ daemon, reader, params }) => {
      const preset = presetOf(daemon, params.name as string);
      return reader.memo(`rest:vms:${preset.name}`, async () => {
        const state = await reader.state(preset.name);
        return new RawJson(state.vms.map((vm) => vmViewOf(preset, state, vm, now())));
      });
    },
  },
  {
    method: 'GET',
    path: '/events',
    summary: 'Events with their reasons, newest first, filtered by preset, VM and time',
    access: 'read',
    query: eventsQuery,
    response: z.array(eventView),
    handler: async ({ daemon, reader, query }) => {
      const names =
        query.preset !== undefined
          ? [presetOf(daemon, query.preset as string).name]
          : daemon.presets().map((p) => p.name);
      const since = query.since ? Date.parse(query.since as string) : Number.NEGATIVE_INFINITY;
      const until = query.until ? Date.parse(query.until as string) : Number.POSITIVE_INFINITY;
      const all = (await Promise.all(names.map(async (n) => eventsOf(n, await reader.state(n))))).flat();
      return all
        .filter((e) => query.vm === undefined || e.vm === query.vm)
        .filter((e) => {
          const t = Date.parse(e.at);
          return t >= since && t < until;
        })
        .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0))
        .slice(0, query.limit as number);
    },
  },
  {
    method: 'GET',
    path: '/tasks',
    summary:
      'Verbs requested on VMs through any instance, newest first (queued, running, done, failed, cancelled)',
    access: 'read',
    query: tasksQuery,
    response: z.array(taskView),
    handler: async ({ daemon, query }) =>
      (
        await daemon.listTasks({
          ...(query.preset !== undefined ? { preset: query.preset as string } : {}),
          active: query.active as boolean,
          limit: query.limit as number,
        })
      ).map(taskViewOf),
  },
  {
    method: 'GET',
    path: '/tasks/:id',
    summary: 'One task',
    access: 'read',
    params: taskParams,
    response: taskView,
    handler: async ({ daemon, params }) => taskViewOf(await daemon.getTask(params.id as string)),
  },
  {
    method: 'POST',
    path: '/tasks/:id/cancel',
    summary: 'Cancel a task no instance has taken up yet (409 once it runs or ended)',
    access: 'operate',
    params: taskParams,
    response: taskView,
    handler: async ({ daemon, params, caller }) =>
      taskViewOf(await daemon.cancelTask(params.id as string, caller.name)),
  },
  ...(['manage', 'pause', 'resume'] as const).map(
    (action): RouteDef => ({
      method: 'POST',
      path: `/presets/:name/${action}`,
      summary: {
        manage: 'Manage the preset now, whatever its interval, as a task; answers at once with it',
        pause: 'Pause the preset (every instance observes and checks it, none acts on it), as a task',
        resume: 'Resume a paused preset, as a task',
      }[action],
      access: 'operate',
      params: presetParams,
      response: taskView,
      status: 202,
      handler: async ({ daemon, reader, params, caller, headers }) => {
        const task = await daemon.requestTask(params.name as string, action, caller.name, {
          idempotencyKey: keyOf(headers),
        });
        reader.forget(task.preset);
        return taskViewOf(task);
      },
    }),
  ),
  {
    method: 'DELETE',
    path: '/presets/:name/vms/:id',
    summary:
      "Terminate a VM of the preset, as a task run under the preset's lease with an event; the loop replaces it",
    access: 'operate',
    params: vmParams,
    response: taskView,
    status: 202,
    handler: async ({ daemon, reader, params, caller, headers }) => {
      const task = await daemon.requestTask(params.name as string, 'terminate', caller.name, {
        vm: params.id as string,
        idempotencyKey: keyOf(headers),
      });
      reader.forget(task.preset);
      return taskViewOf(task);
    },
  },
  // A receiver's answer to a VM's before_terminate hook (docs/hooks.md), recorded as a task.
  {
    method: 'POST',
    path: '/presets/:name/vms/:id/hook',
    summary:
      "Answer a VM's before_terminate hook (continue, abandon, heartbeat) as a task run under the preset's lease; 409 when no hook waits",
    access: 'operate',
    params: vmParams,
    body: hookAnswerBody,
    response: taskView,
    status: 202,
    handler: async ({ daemon, reader, params, caller, body }) => {
      const task = await daemon.answerHook(
        params.name as string,
        params.id as string,
        body?.result as 'continue' | 'abandon' | 'heartbeat',
        caller.name,
      );
      reader.forget(params.name as string);
      return taskViewOf(task);
    },
  },
  {
    method: 'POST',
    path: '/presets/:name/vms/:id/:verb',
    summary:
      'Run a verb on a VM (quiesce, restart, scrub, restore, update) as a task in the runtime store; answers at ' +
      'once with it (an `Idempotency-Key` header used before answers with the task that has it)',
    access: 'operate',
    params: verbParams,
    response: taskView,
    status: 202,
    handler: async ({ daemon, reader, params, caller, headers }) => {
      const task = await daemon.requestVerb(
        params.name as string,
        params.id as string,
        params.verb as VerbName,
        caller.name,
        keyOf(headers),
      );
      reader.forget(params.name as string);
      return taskViewOf(task);
    },
  },
];
