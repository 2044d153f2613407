import type { PresetPreview } from '../../reconcile/preview.js';
import { quarantineLine } from '../../reconcile/quarantine.js';

/**
 * `plan`'s lines on the quarantine: the VMs this manage stops and keeps (each replaced, so the count
 * of creates grows by one), and those kept already (not counted; each waits for its ttl or a terminate).
 */
export function quarantineLines(p: PresetPreview): string[] {
  const lines = p.quarantine.map((q) => `  stop and keep ${quarantineLine(q)}`);
  for (const vm of p.vms)
    if (vm.class === 'quarantined')
      lines.push(`  kept ${vm.id}  (${vm.reason}; not counted; deleted then, or by an operator's terminate)`);
  return lines;
}
