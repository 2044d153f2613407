/** The levels of `limits:`, finest first. */
export type LockLevel = 'host' | 'az' | 'account';
export const LOCK_LEVELS: readonly LockLevel[] = ['host', 'az', 'account'];

/** `limits:` as the loop uses them: slots per level, absent for no limit at that level. */
export type DisruptionLimits = Partial<Record<LockLevel, number>>;

/** `limits:` of the settings file as levels. */
export function limitsOf(
  settings:
    | {
        disruptions_per_host?: number | undefined;
        disruptions_per_az?: number | undefined;
        disruptions_per_account?: number | undefined;
      }
    | undefined,
): DisruptionLimits {
  return {
    ...(settings?.disruptions_per_host ? { host: settings.disruptions_per_host } : {}),
    ...(settings?.disruptions_per_az ? { az: settings.disruptions_per_az } : {}),
    ...(settings?.disruptions_per_account ? { account: settings.disruptions_per_account } : {}),
  };
}
