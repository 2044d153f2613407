import { budgetLine } from '../../reconcile/disruption-budget.js';
import type { PresetPreview } from '../../reconcile/preview.js';
import { spreadLine } from '../../reconcile/zone-spread.js';
import { type OutputFormat, print, printJson } from '../output.js';
import { withDaemon } from '../with-daemon.js';
import { quarantineLines } from './plan-quarantine.js';

/** `vmshepherd plan -c FILE [--preset NAME]`: what one cycle would do, touching nothing. */
export async function planCommand(
  configFile: string,
  preset: string | undefined,
  output: OutputFormat,
): Promise<number> {
  return withDaemon(configFile, async (daemon) => {
    const previews = await daemon.plan(preset);
    if (output === 'json') printJson(previews);
    else print(previews.map(formatPreview).join('\n'));
    return 0;
  });
}

export function formatPreview(p: PresetPreview): string {
  const byClass = new Map<string, number>();
  for (const vm of p.vms) byClass.set(vm.class, (byClass.get(vm.class) ?? 0) + 1);
  const counts = [...byClass].map(([c, n]) => `${n} ${c}`).join(', ') || 'no VMs';
  const lines = [
    `${p.preset} (count ${p.count}, spec ${p.specHash}, revision ${p.revision}${p.unmanaged ? ', unmanaged' : ''}): ${counts}`,
  ];
  if (p.demand) lines.push(`  ${demandLine(p.demand)}`);
  lines.push(`  budget: ${budgetLine(p.budget)}`);
  if (p.budget.spent.length > 0)
    lines.push(
      `    this step takes: ${p.budget.spent.map((h) => `${h.user} ${h.what}: ${h.vm}`).join('; ')}`,
    );
  if (p.zones) {
    const z = p.zones;
    lines.push(`  zones: ${spreadLine(Object.keys(z.counts), z.counts, z.skipped)}`);
    for (const skipped of z.skipped)
      lines.push(
        `    ${skipped} skipped until ${new Date(z.skippedUntil[skipped] ?? 0).toISOString()} (no capacity)`,
      );
    if (z.rebalance)
      lines.push(
        `    rebalancing: a new VM in ${z.rebalance.to}, then one fewer in ${z.rebalance.from} once it is ready`,
      );
  }
  for (const w of p.waiting)
    lines.push(
      `  ${w.verb} ${w.vm} by ${w.by} waits since ${new Date(w.since).toISOString()}  (${w.reason})`,
    );
  for (const l of p.locks) lines.push(`  ${l.action} ${l.vm}: ${l.reason}`);
  const r = p.rollout;
  if (r.active) {
    const state = r.paused ? `PAUSED: ${r.paused}` : `${r.ready} ready, keeps at least ${r.minReady}`;
    lines.push(
      `  rollout (${r.strategy}${r.fallback ? ', replacing VMs with fields that cannot change in place' : ''}): ${r.outdated} outdated VMs; ${state}`,
    );
    lines.push(`    this step: ${rolloutStep(p)}`);
  } else if (r.outdated > 0) {
    lines.push(`  ${r.outdated} outdated VMs kept (update.strategy: ${r.strategy})`);
  }
  for (const id of p.adopt)
    lines.push(`  adopt ${id}  (named ${p.preset}, no vmshepherd metadata: the original's)`);
  for (const t of p.terminate) lines.push(`  terminate ${t.vmId}  (${t.class}: ${t.reason})`);
  for (const h of p.hooks ?? []) lines.push(`    hook ${h.vm}: ${h.step}`);
  for (const u of p.update) lines.push(`  ${u.op} ${u.vmId} in place  (${u.reason})`);
  for (const m of p.remedy) lines.push(`  ${m.action} ${m.vmId}  (remedy step ${m.step + 1}: ${m.reason})`);
  lines.push(...quarantineLines(p));
  if (p.create > 0)
    lines.push(
      `  create ${p.create}${p.zones?.creates.length ? ` in ${zoneList(p.zones.creates)}` : ''}  (${p.createReason})`,
    );
  if (p.createBlocked) {
    lines.push(
      `  creates wait until ${new Date(p.createBlocked.until).toISOString()}  (${p.createBlocked.code}: ${p.createBlocked.reason})`,
    );
  }
  const fleet = p.guard.fleet;
  if (fleet?.active) {
    lines.push(
      `  fleet-wide guard ON: ${fleet.failing} of ${fleet.checked} checked VMs of this instance failing (max ${fleet.limit}); no VM terminated for health`,
    );
  } else if (p.guard.active) {
    lines.push(
      `  mass-deletion guard ON: ${p.guard.failing} of ${p.guard.total} VMs failing (max ${p.guard.limit}); replaced one at a time`,
    );
  }
  const idle =
    p.adopt.length +
      p.terminate.length +
      p.update.length +
      p.remedy.length +
      p.quarantine.length +
      p.create ===
    0;
  if (idle && !p.guard.active && !fleet?.active && !p.createBlocked) lines.push('  nothing to do');
  return lines.join('\n');
}

/** `az1, az2 ×2`: the zones of the creates, each once with how many. */
function zoneList(zones: readonly string[]): string {
  const n = new Map<string, number>();
  for (const z of zones) n.set(z, (n.get(z) ?? 0) + 1);
  return [...n].map(([z, k]) => (k > 1 ? `${z} ×${k}` : z)).join(', ');
}

/** One line on where the rollout stands: what this manage does for it, or what it waits for. */
function rolloutStep(p: PresetPreview): string {
  const replaced = p.terminate.filter((t) => t.class === 'outdated').length;
  const parts: string[] = [];
  if (replaced) parts.push(`retire ${replaced} outdated`);
  if (p.update.length) parts.push(`update ${p.update.length} in place`);
  if (p.create) parts.push(`start ${p.create} of the new spec`);
  if (parts.length > 0) return parts.join(', ');
  const waiting = p.vms.filter((v) => !v.outdated && !v.ready).length;
  return waiting ? `wait for ${waiting} new VMs to become ready` : 'wait';
}

/** Why the count is what it is: the value and bounds, the cooldown, or a failed query holding it. */
function demandLine(d: NonNullable<PresetPreview['demand']>): string {
  const held = d.unavailable
    ? `; demand unavailable since ${new Date(d.unavailable.since).toISOString()}: the count is held`
    : '';
  return `demand: ${d.explain}${held}`;
}
