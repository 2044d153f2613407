import type { Preset } from '../presets/preset.js';
import { gateTerminations, type HookGateContext, postNotice } from './hook-gate.js';
import { type AfterCreateNote, afterCreateDue, afterCreateTried, type HookWait } from './hooks.js';
import type { Decision } from './observe.js';
import type { PresetState } from './state.js';

// A manage's lifecycle hooks (docs/hooks.md): the before_terminate gate on the plan's terminations and
// the after_create notices, between the decision and the actions.

/** The hook records a manage saves (undefined: none, the preset has no such hook). */
export interface HookRecords {
  hooks?: Record<string, HookWait> | undefined;
  notified?: Record<string, AfterCreateNote> | undefined;
}

/** The records kept when the manage does not act (paused, unmanaged, stopping): as they were. */
export function hookRecordsKept(preset: Preset, state: PresetState): HookRecords {
  return {
    hooks: preset.hooks?.beforeTerminate ? state.hooks : undefined,
    notified: preset.hooks?.afterCreate ? state.notified : undefined,
  };
}

/**
 * Runs the preset's hooks before its actions: the decision to act on (terminations that wait for their
 * hook left out) and the records to save. A preset without hooks gets its decision back untouched.
 */
export async function runHooks(
  preset: Preset,
  decision: Decision,
  state: PresetState,
  ctx: HookGateContext,
): Promise<{ decision: Decision; records: HookRecords }> {
  const records: HookRecords = {};
  let acted = decision;
  const bt = preset.hooks?.beforeTerminate;
  const ac = preset.hooks?.afterCreate;
  const [gated, notified] = await Promise.all([
    bt ? gateTerminations(preset, bt, decision.plan.terminate, state, ctx) : undefined,
    ac ? afterCreateNotices(preset, decision, state, ctx) : undefined,
  ]);
  if (gated) {
    records.hooks = gated.waits;
    if (gated.go.length !== decision.plan.terminate.length)
      acted = { ...decision, plan: { ...decision.plan, terminate: gated.go } };
  }
  if (notified) records.notified = notified;
  return { decision: acted, records };
}

/** POSTs after_create for VMs ready for the first time (and retries due); never holds anything up. */
async function afterCreateNotices(
  preset: Preset,
  decision: Decision,
  state: PresetState,
  ctx: HookGateContext,
): Promise<Record<string, AfterCreateNote>> {
  const hook = preset.hooks?.afterCreate;
  const ready = decision.classified.filter((c) => c.ready).map((c) => c.vm.id);
  const { due, notes } = afterCreateDue(ready, state.notified, ctx.now);
  if (!hook) return notes;
  await Promise.all(
    due.map(async (id) => {
      const vm = ctx.vms.get(id);
      const sent = await postNotice(
        hook,
        {
          type: 'after_create',
          id: `${id}/after_create`,
          preset: preset.name,
          vm: { id, name: vm?.name ?? id, ips: vm?.ips ?? [] },
          revision: preset.source.revision,
        },
        ctx,
      );
      notes[id] = afterCreateTried(notes[id], sent.ok, ctx.now);
      if (sent.ok)
        ctx.record({ type: 'hook_sent', vm: id, reason: 'after_create notice taken by the receiver' });
      else
        ctx.record({
          type: 'hook_failed',
          vm: id,
          reason: `after_create notice not delivered (${sent.error})${notes[id]?.at !== undefined ? ': given up' : '; retried'}`,
          code: 'reconcile_hook_0001',
        });
    }),
  );
  return notes;
}
