import type { PresetPreview } from '../../reconcile/preview.js';
import { type OutputFormat, print, printJson } from '../output.js';
import { withDaemon } from '../with-daemon.js';

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
    `${p.preset} (count ${p.count}, revision ${p.revision}${p.unmanaged ? ', unmanaged' : ''}): ${counts}`,
  ];
  for (const t of p.terminate) lines.push(`  terminate ${t.vmId}  (${t.class}: ${t.reason})`);
  if (p.create > 0) lines.push(`  create ${p.create}  (${p.createReason})`);
  if (p.guard.active)
    lines.push(
      `  mass-deletion guard ON: ${p.guard.failing} of ${p.guard.total} VMs failing (max ${p.guard.limit}); no VM terminated for health`,
    );
  if (p.terminate.length === 0 && p.create === 0 && !p.guard.active) lines.push('  nothing to do');
  return lines.join('\n');
}
