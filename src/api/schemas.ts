import { z } from 'zod';
import { HOOK_ANSWERS } from '../reconcile/hooks.js';
import { VERB_NAMES } from '../reconcile/verbs.js';

/**
 * The REST API's request and response shapes. Requests are validated with these schemas and the OpenAPI
 * document (/api/v1/openapi.json) is generated from the same ones, so the two cannot drift apart.
 */
export const PHASES = [
  'converged',
  'converging',
  'degraded',
  'failing',
  'unmanaged',
  'paused',
  'new',
] as const;

export const presetParams = z.strictObject({ name: z.string().min(1).max(256).describe('preset name') });
export const vmParams = presetParams.extend({ id: z.string().min(1).max(256).describe('VM id') });
export const verbParams = vmParams.extend({
  verb: z.enum(VERB_NAMES as unknown as [string, ...string[]]).describe('the verb to run on the VM'),
});
export const hookAnswerBody = z.strictObject({
  result: z
    .enum(HOOK_ANSWERS as unknown as [string, ...string[]])
    .describe('continue or abandon (the VM is terminated either way), or heartbeat (wait longer)'),
});
export const taskParams = z.strictObject({ id: z.string().min(1).max(64) });

/** Presets per page of `GET /presets` when the client does not say, and at most. */
export const PAGE_DEFAULT = 100;
export const PAGE_MAX = 1000;

export const presetsQuery = z.strictObject({
  q: z.string().max(200).optional().describe('substring of the name'),
  phase: z.enum(PHASES).optional(),
  limit: z.coerce
    .number()
    .int()
    .min(1)
    .max(PAGE_MAX)
    .default(PAGE_DEFAULT)
    .describe(`presets per page, 1 to ${PAGE_MAX} (default ${PAGE_DEFAULT})`),
  cursor: z
    .string()
    .max(1024)
    .optional()
    .describe('`next` of the previous page (same q and phase); absent for the first page'),
});
export const eventsQuery = z.strictObject({
  preset: z.string().optional(),
  vm: z.string().optional(),
  since: z.iso.datetime({ offset: true }).optional().describe('ISO time, inclusive'),
  until: z.iso.datetime({ offset: true }).optional().describe('ISO time, exclusive'),
  limit: z.coerce.number().int().min(1).max(5000).default(200),
});
export const tasksQuery = z.strictObject({
  preset: z.string().optional(),
  active: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true')
    .describe('only queued and running tasks'),
  limit: z.coerce.number().int().min(1).max(10_000).default(1000),
});

const isoOrNull = z.string().nullable();

export const budgetView = z
  .object({
    limit: z.number().int().describe('update.max_unavailable, resolved against count'),
    unavailable: z.number().int().describe('of count, VMs not served by a ready VM now'),
    room: z.number().int().describe('ready VMs that may be taken out of service now'),
    holders: z
      .array(
        z.object({
          vm: z.string(),
          user: z.string().describe('verb, rollout, remediation, scale-in, healing or booting'),
          what: z.string().describe('the verb, the step or the class'),
        }),
      )
      .describe('who holds the unavailable VMs, causes first'),
    missing: z.number().int().describe('unavailable slots no listed VM holds'),
    line: z.string().describe('the budget as `vmshepherd plan` prints it'),
    waiting: z
      .array(
        z.object({
          vm: z.string(),
          verb: z.string(),
          by: z.string(),
          since: z.string(),
          reason: z.string(),
        }),
      )
      .describe("operators' verbs waiting for room in the budget"),
  })
  .describe("one update.max_unavailable shared by rollouts, remedies, scale-in and operators' verbs");

export const presetSummary = z.object({
  name: z.string(),
  count: z.number().int(),
  phase: z.enum(PHASES),
  code: z.string().optional(),
  message: z.string(),
  counts: z.record(z.string(), z.number().int()).describe('VMs by state after the last manage'),
  unhealthy: z.number().int().describe('VMs failing their checks'),
  guard: z.boolean(),
  paused: z.boolean(),
  unmanaged: z.boolean(),
  revision: z.string(),
  lastManagedAt: isoOrNull,
  lastManagedBy: z.string().nullable(),
  nextManageAt: isoOrNull.describe(
    'when the preset is due (in the past: due now); null before its first manage',
  ),
  budget: budgetView.optional().describe('the disruption budget as the last manage found it'),
});

export const presetPage = z.object({
  items: z.array(presetSummary).describe('presets in name order'),
  total: z.number().int().describe('presets matching q and phase, over all pages'),
  next: z
    .string()
    .nullable()
    .describe('cursor of the next page (send it as `cursor`), null on the last page'),
});

export const condition = z.object({
  type: z.enum(['Converged', 'Paused', 'GuardActive', 'RollingOut', 'CreateBackoff']),
  status: z.boolean(),
  code: z.string().optional(),
  message: z.string(),
});

export const presetDetail = presetSummary.extend({
  spec: z.object({
    image: z.string().optional(),
    flavor: z.string().optional(),
    flavors: z
      .array(z.string())
      .optional()
      .describe('a flavor list: tried in order on capacity errors (flavor is its first)'),
    zones: z.array(z.string()).optional().describe('a zone spread: the VMs are spread evenly over these'),
    keyName: z.string().optional(),
    network: z.object({
      securityGroups: z.array(z.string()),
      availabilityZone: z.string().optional(),
      subnets: z.array(z.string()),
    }),
    metaTags: z.record(z.string(), z.string()),
    panelLinks: z.record(z.string(), z.string()),
    manageInterval: z.number(),
    iaasDriver: z.string(),
    healthcheckDriver: z.string().nullable(),
    update: z.object({ strategy: z.string(), maxSurge: z.union([z.number(), z.string()]) }),
    specHash: z.string(),
    file: z.string(),
  }),
  conditions: z.array(condition),
  userdata: z.string().optional().describe('rendered userdata: only for operate tokens'),
});

export const vmView = z.object({
  id: z.string(),
  name: z.string(),
  state: z.string(),
  lifecycle: z.enum(['active', 'quiesced', 'scrubbing', 'quarantined', 'terminating', 'terminating:wait']),
  providerStatus: z.string().optional(),
  ips: z.array(z.string()),
  createdAt: z.string(),
  ageSeconds: z.number(),
  specHash: z.string().optional(),
  outdated: z.boolean(),
  image: z.string().optional(),
  flavor: z.string().optional(),
  fault: z.string().optional(),
  health: z
    .object({
      verdict: z.string().nullable(),
      failures: z.number().int(),
      history: z.string().describe('oldest first: h healthy, u unhealthy, ? unknown'),
      reason: z.string().optional(),
      code: z.string().optional(),
    })
    .nullable(),
  links: z.record(z.string(), z.string()).describe("the preset's panel_links for this VM"),
});

export const eventView = z.object({
  preset: z.string(),
  at: z.string(),
  type: z.string(),
  vm: z.string().optional(),
  reason: z.string(),
  code: z.string().optional(),
  token: z.number(),
  instance: z.string(),
});

export const taskView = z.object({
  id: z.string(),
  preset: z.string(),
  vm: z.string().optional().describe('the VM of a verb or terminate'),
  verb: z.string().describe('quiesce, restart, scrub, restore, update, or manage, pause, resume, terminate'),
  by: z.string(),
  state: z.enum(['queued', 'running', 'done', 'failed', 'cancelled']),
  steps: z
    .array(
      z.object({
        name: z.string(),
        state: z.enum(['started', 'done', 'skipped']),
        at: z.string(),
        instance: z.string(),
        token: z.number(),
        note: z.string().optional(),
      }),
    )
    .describe('each step as recorded when it started and when it ended, with the instance and fence'),
  error: z.object({ code: z.string(), message: z.string(), step: z.string().optional() }).optional(),
  createdAt: z.string(),
  startedAt: z.string().optional(),
  finishedAt: z.string().optional(),
  idempotencyKey: z.string().optional(),
  executor: z.string().optional().describe('the instance that ran it last'),
  attempts: z.number().int().describe('times an executor took it up (more than one: resumed)'),
  trace: z
    .object({ traceparent: z.string(), tracestate: z.string().optional() })
    .optional()
    .describe(
      "the W3C trace context of the request that submitted it (tracing on): the executor's spans link to it",
    ),
});

export const errorBody = z.object({
  error: z.object({ code: z.string(), message: z.string(), fix: z.string().optional() }),
});
