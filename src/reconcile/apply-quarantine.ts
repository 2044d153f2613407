import { asShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import { type ApplyContext, gated, type VerbOutcome } from './apply.js';
import { DISRUPTIVE_VERBS } from './lock-keys.js';
import { type Quarantine, quarantineLine } from './quarantine.js';
import { vmSpec } from './spec.js';

/** Metadata an operator sees on a quarantined VM in the cloud's console: when its ttl ends. */
export const META_QUARANTINED = 'vmshepherd_quarantined';

/**
 * Puts unhealthy VMs in quarantine, concurrently, under the lease: marks each on the cloud where the
 * driver can (before the stop: a cloud refuses metadata while a VM is stopping), then stops it. The
 * lifecycle record is saved by the manage (next-state.ts) for those done; a failed stop leaves the VM
 * unhealthy, tried again next manage.
 */
export async function applyQuarantines(
  quarantines: readonly Quarantine[],
  ctx: ApplyContext,
): Promise<VerbOutcome<Quarantine>> {
  const outcome: VerbOutcome<Quarantine> = { done: [], failed: [] };
  if (quarantines.length === 0) return outcome; // the steady state: nothing allocated per manage
  const spec = vmSpec(ctx.preset);
  await Promise.all(
    quarantines.map(async (q) => {
      if (ctx.stopping.aborted) return;
      try {
        const wait = await gated(ctx, q.vmId, 'stop', DISRUPTIVE_VERBS.has('stop'), async () => {
          if (ctx.cloud.can('setMetadata')) await mark(ctx, q, spec);
          ctx.lease.assertValid();
          await ctx.cloud.verb('stop', q.vmId, undefined, { signal: ctx.lease.signal });
        });
        if (wait) {
          outcome.waiting ??= [];
          outcome.waiting.push({ action: q, wait });
          return;
        }
        outcome.done.push(q);
        const until = new Date(q.until).toISOString();
        ctx.record({ type: 'quarantined', vm: q.vmId, reason: quarantineLine(q), data: { until } });
        ctx.logger.info({ vm: q.vmId, until, fence: ctx.lease.token }, 'quarantined VM');
      } catch (err) {
        const error = asShepherdError(err, 'reconcile_manage_1001');
        outcome.failed.push({ action: q, error });
        ctx.record({
          type: 'quarantine_failed',
          vm: q.vmId,
          reason: `stop: ${error.message}`,
          code: error.code,
        });
        ctx.logger.warn({ vm: q.vmId, ...errorFields(error), fence: ctx.lease.token }, 'quarantine failed');
      }
    }),
  );
  return outcome;
}

/** The mark is a courtesy to the operator: a cloud that refuses it does not keep the VM from quarantine. */
async function mark(ctx: ApplyContext, q: Quarantine, spec: ReturnType<typeof vmSpec>): Promise<void> {
  const metadata = { [META_QUARANTINED]: new Date(q.until).toISOString() };
  try {
    ctx.lease.assertValid();
    await ctx.cloud.verb('setMetadata', q.vmId, { ...spec, metadata }, { signal: ctx.lease.signal });
  } catch (err) {
    const error = asShepherdError(err, 'reconcile_manage_1001');
    ctx.logger.info({ vm: q.vmId, ...errorFields(error), fence: ctx.lease.token }, 'quarantine mark not set');
  }
}
