import type { DisruptionBudget } from './disruption-budget.js';
import { budgetLine } from './disruption-budget.js';

/** Whether an operator's verb may run now, or why it waits. */
export type Admission = { admit: true } | { admit: false; reason: string };

/**
 * Whether an operator's verb may take its VM out of service now (pure). A verb that takes nothing out
 * (start, restore, an update that changes nothing disruptive), or whose VM is not ready anyway, runs at
 * once. Otherwise it needs a ready VM of room in the preset's disruption budget, the one a rollout,
 * remedies and scale-in draw from; without it the verb waits (never an error: the operator asked).
 *
 * At max_unavailable 0 an operator may still take one VM out at a time (the budget counts as 1 for a
 * verb), else no verb could ever run at the default; that VM then holds the budget, and nothing else
 * is taken out while it lasts (a rollout goes on by surge only).
 */
export function admitVerb(takesOut: boolean, vmReady: boolean, budget: DisruptionBudget): Admission {
  if (!takesOut || !vmReady) return { admit: true };
  const limit = Math.max(1, budget.limit);
  const room = budget.ready - (budget.count - limit);
  if (room >= 1) return { admit: true };
  return { admit: false, reason: `waiting for disruption budget: ${budgetLine(budget)}` };
}
