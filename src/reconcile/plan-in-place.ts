import { META_PARTS, META_SPEC } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import type { ClassifiedVm } from './classify.js';
import type { BudgetHolder } from './disruption-budget.js';
import { type InPlaceStep, type InPlaceWork, opName } from './in-place.js';
import type { InPlaceUpdate } from './plan-types.js';
import { takeWithinBudget } from './plan-victims.js';

// The plan's in-place updates (`update.strategy: in_place`): which outdated VMs are updated now.

const rolloutHolder = (vm: string, what: string): BudgetHolder => ({ vm, user: 'rollout', what });

/**
 * In-place updates of the outdated VMs that stay: a VM whose fields are right already only gets its record
 * (every one, at no cost); disruptive ones take unready VMs first, then ready ones while the budget lasts.
 * A VM already changing (rebuilding, resizing) is not picked again, unless a resize awaits its confirmation.
 */
export function planUpdates(
  serving: readonly ClassifiedVm[],
  works: ReadonlyMap<string, InPlaceWork>,
  budget: number,
  out: InPlaceUpdate[],
  spent: BudgetHolder[],
): void {
  const candidates = serving.filter(
    (v) => v.outdated && (v.class === 'running' || v.vm.resizeUnconfirmed === true),
  );
  const disruptive: ClassifiedVm[] = [];
  for (const v of candidates) {
    const work = works.get(v.vm.id);
    if (work?.kind === 'record') out.push(inPlaceUpdate(v, []));
    else if (work?.kind === 'update' && !work.disruptive) out.push(inPlaceUpdate(v, work.steps));
    else if (work?.kind === 'update') disruptive.push(v);
  }
  for (const v of takeWithinBudget(disruptive, disruptive.length, budget)) {
    const work = works.get(v.vm.id);
    if (work?.kind !== 'update') continue;
    out.push(inPlaceUpdate(v, work.steps));
    if (v.ready) spent.push(rolloutHolder(v.vm.id, opName(work.steps)));
  }
}

function inPlaceUpdate(v: ClassifiedVm, steps: InPlaceStep[]): InPlaceUpdate {
  const from = v.vm.metadata[META_SPEC] ?? '?';
  const recorded = v.vm.metadata[META_PARTS];
  const why = steps.map((s) => `${s.verb} for ${s.fields.join(', ')}`).join('; ');
  return {
    vmId: v.vm.id,
    op: opName(steps),
    steps,
    from,
    ...(recorded ? { recorded } : {}),
    reason: steps.length === 0 ? `every field is at the spec: record it (was ${from})` : why,
  };
}

export function replaceReason(preset: Preset, work: InPlaceWork | undefined): string {
  const why = work?.kind === 'replace' ? ` (${work.reason})` : '';
  return `spec ${preset.specHash} replaces it${why}`;
}
