import type { Logger } from 'pino';
import type { DriverRegistry } from '../drivers/registry.js';
import type { HealthCheck, IaasDriver } from '../drivers/types.js';
import type { Preset } from '../presets/preset.js';
import { Listing } from '../reconcile/observe.js';
import type { Clock } from '../util/clock.js';
import { stableJson } from '../util/deep-merge.js';
import { CloudAccount, type CloudCallEvent } from './cloud-account.js';
import { driverContext } from './driver-context.js';

/**
 * The IaaS and health check driver instances of the running presets, one per distinct option set:
 * presets of one cloud account share one CloudAccount (limiter, breaker, listing).
 */
export class DriverPool {
  private readonly accounts = new Map<string, Promise<CloudAccount>>();
  private readonly checks = new Map<string, Promise<HealthCheck>>();
  /** Presets are immutable per revision: remember which account and check each one uses. */
  private readonly byPreset = new WeakMap<
    Preset,
    { account: Promise<CloudAccount>; check: Promise<HealthCheck | null> }
  >();
  onCloudCall: ((event: CloudCallEvent) => void) | undefined;

  constructor(
    private readonly registry: DriverRegistry,
    private readonly logger: Logger,
    private readonly clock: Clock,
    private readonly instanceId: string,
    private readonly baseDir: string,
  ) {}

  account(preset: Preset): Promise<CloudAccount> {
    return this.forPreset(preset).account;
  }

  healthcheck(preset: Preset): Promise<HealthCheck | null> {
    return this.forPreset(preset).check;
  }

  private forPreset(preset: Preset) {
    let entry = this.byPreset.get(preset);
    if (!entry) {
      entry = { account: this.accountFor(preset), check: this.checkFor(preset) };
      this.byPreset.set(preset, entry);
      // A failed creation is retried on the next manage rather than remembered.
      entry.account.catch(() => this.byPreset.delete(preset));
      entry.check.catch(() => this.byPreset.delete(preset));
    }
    return entry;
  }

  private async accountFor(preset: Preset): Promise<CloudAccount> {
    const { driver, options, limits } = preset.iaas;
    const definition = await this.registry.resolve('iaas', driver);
    const key = `${driver}:${definition.accountKey ? definition.accountKey(options) : stableJson(options)}`;
    let account = this.accounts.get(key);
    if (!account) {
      account = (async () => {
        const instance = (await definition.create(options, this.context(driver))) as IaasDriver;
        const a = new CloudAccount(key, driver, instance, limits);
        a.onCall = (e) => this.onCloudCall?.(e);
        return a;
      })();
      this.accounts.set(key, account);
      account.catch(() => this.accounts.delete(key));
    }
    return account;
  }

  private async checkFor(preset: Preset): Promise<HealthCheck | null> {
    const hc = preset.healthcheck;
    if (!hc) return null;
    const key = `${hc.driver}:${stableJson(hc.options)}`;
    let check = this.checks.get(key);
    if (!check) {
      check = (async () => {
        const definition = await this.registry.resolve('healthcheck', hc.driver);
        return (await definition.create(hc.options, this.context(hc.driver))) as HealthCheck;
      })();
      this.checks.set(key, check);
      check.catch(() => this.checks.delete(key));
    }
    return check;
  }

  /** Every live account (for metrics and benchmarks). */
  async allAccounts(): Promise<CloudAccount[]> {
    return Promise.all([...this.accounts.values()]);
  }

  async close(): Promise<void> {
    const accounts = await Promise.allSettled([...this.accounts.values()]);
    const checks = await Promise.allSettled([...this.checks.values()]);
    await Promise.allSettled([
      ...accounts.map((a) => (a.status === 'fulfilled' ? a.value.close() : undefined)),
      ...checks.map((c) => (c.status === 'fulfilled' ? c.value.close?.() : undefined)),
    ]);
    this.accounts.clear();
    this.checks.clear();
  }

  private context(driver: string) {
    return driverContext(this.logger, this.clock, this.instanceId, this.baseDir, driver);
  }
}

/** Lists a whole account once, by preset; undefined when listing fails (presets then list alone). */
export async function accountListing(
  account: CloudAccount,
  clock: Clock,
  logger: Logger,
): Promise<Listing | undefined> {
  const startedAt = clock.now();
  try {
    return new Listing(startedAt, await account.listAllByPreset());
  } catch (err) {
    logger.warn(
      { err, code: (err as { code?: string }).code, account: account.driverName },
      'account listing failed; presets list on their own',
    );
    return undefined;
  }
}
