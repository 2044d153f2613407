import type { Logger } from 'pino';
import type { PresetPlacement } from '../drivers/types.js';
import { asShepherdError } from '../errors/shepherd-error.js';
import type { Preset } from '../presets/preset.js';
import type { CloudAccount } from './cloud-account.js';

/**
 * The configured presets by cloud account, each as its server group placement; an account no preset uses
 * any more gets an empty list (its groups are all unwanted). Pure.
 */
export function placementsByAccount(
  presets: readonly { preset: Preset; account: CloudAccount }[],
  accounts: readonly CloudAccount[] = [],
): Map<CloudAccount, PresetPlacement[]> {
  const out = new Map<CloudAccount, PresetPlacement[]>(accounts.map((a) => [a, []]));
  for (const { preset, account } of presets) {
    const list = out.get(account) ?? [];
    list.push({ preset: preset.name, ...(preset.serverGroup ? { serverGroup: preset.serverGroup } : {}) });
    out.set(account, list);
  }
  return out;
}

/**
 * Tells every account which presets it serves now, so its driver can delete the server groups it made for
 * presets that are gone (once empty). A failure is logged and tried again after the next refresh: a group
 * left a while longer costs nothing.
 */
export async function releaseGroups(
  presets: readonly Preset[],
  account: (preset: Preset) => Promise<CloudAccount>,
  accounts: () => Promise<CloudAccount[]>,
  logger: Logger,
  signal: AbortSignal,
): Promise<void> {
  const resolved = await Promise.all(
    presets.map((preset) =>
      account(preset).then(
        (a) => ({ preset, account: a }),
        () => undefined, // the manage reports a driver that cannot be made
      ),
    ),
  );
  const known = resolved.filter((r) => r !== undefined);
  const all = await accounts().catch(() => []);
  await Promise.all(
    [...placementsByAccount(known, all)].map(([a, placements]) =>
      a.releaseGroups(placements, { signal }).catch((err: unknown) => {
        if (signal.aborted) return;
        const e = asShepherdError(err, 'iaas_call_1001');
        logger.warn({ err: e, code: e.code, account: a.driverName }, 'server groups not released');
      }),
    ),
  );
}
