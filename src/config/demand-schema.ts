import { Cron } from 'croner';
import { z } from 'zod';

// `count:` as a number, or as bounds that follow demand (docs/demand.md): a Prometheus query and/or
// schedule windows. Validated here so a bad cron or time zone is a preset error, never a loop failure.

/** True for an IANA time zone name this Node knows ("Europe/Warsaw", "UTC"). */
function knownTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/** True for a cron pattern croner accepts (5 or 6 fields, or a nickname such as @daily). */
function validCron(pattern: string): boolean {
  try {
    new Cron(pattern, { paused: true });
    return true;
  } catch {
    return false;
  }
}

const bound = z.number().int().nonnegative();

export const demandTargetSchema = z.strictObject({
  prometheus: z
    .strictObject({
      url: z.url().describe('base URL of the Prometheus server (its HTTP API is under /api/v1)'),
      query: z
        .string()
        .min(1)
        .describe('PromQL instant query returning one sample (wrap it in sum() to be sure)'),
      timeout: z.number().positive().default(5).describe('seconds after which the query counts as failed'),
    })
    .describe('the demand: an instant query of a Prometheus server'),
  per_vm: z
    .number()
    .positive()
    .describe('how much of the value one VM serves: desired = ceil(value / per_vm)'),
});

export const demandWindowSchema = z
  .strictObject({
    cron: z
      .string()
      .min(1)
      .refine(validCron, 'not a cron pattern (minute hour day month weekday, or a nickname like @daily)')
      .describe('when the window opens, e.g. "0 8 * * 1-5"'),
    duration: z.number().positive().describe('seconds the window stays open after each start'),
    timezone: z
      .string()
      .min(1)
      .refine(knownTimeZone, 'not an IANA time zone (e.g. "UTC", "Europe/Warsaw")')
      .describe('IANA time zone the cron is read in (required: no silent default)'),
    min: bound.describe('the least VMs while the window is open (replaces count.min)'),
    max: bound.describe('the most VMs while the window is open (replaces count.max)'),
  })
  .refine((w) => w.min <= w.max, { message: 'min must not exceed max', path: ['min'] });

export const demandCountSchema = z
  .strictObject({
    min: bound.describe('the least VMs (outside schedule windows)'),
    max: bound.describe('the most VMs (outside schedule windows)'),
    target: demandTargetSchema
      .optional()
      .describe('desired = ceil(value / per_vm), clamped to min and max; without it the count is min'),
    schedule: z
      .array(demandWindowSchema)
      .min(1)
      .optional()
      .describe(
        'windows whose min and max replace the bounds while open (several open: the highest of each)',
      ),
    cooldown: z
      .number()
      .nonnegative()
      .default(300)
      .describe('seconds the count must be wanted lower before a scale-in, and between two scale-ins'),
    step: z.number().int().positive().default(1).describe('the most VMs one scale-in removes'),
  })
  .refine((c) => c.min <= c.max, { message: 'min must not exceed max', path: ['min'] });

/** `count:` of a preset: a number, or bounds that follow demand. */
export const countSchema = z.union([
  z.number().int().nonnegative().describe('desired number of VMs'),
  demandCountSchema.describe('a count that follows demand (docs/demand.md)'),
]);

export type DemandCountInput = z.output<typeof demandCountSchema>;
