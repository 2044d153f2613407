import {
  BrokenCircuitError,
  ConsecutiveBreaker,
  circuitBreaker,
  ExponentialBackoff,
  handleWhen,
  type IPolicy,
  retry,
  wrap,
} from 'cockatiel';
import PQueue from 'p-queue';
import {
  type CallOptions,
  type CreateOptions,
  type IaasCapability,
  type IaasDriver,
  META_PRESET,
  type PresetPlacement,
  SPEC_VERBS,
  type SpecField,
  type Vm,
  type VmSpec,
} from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import { inSpan } from '../observability/tracing.js';

export interface CloudCallEvent {
  account: string;
  driver: string;
  verb: string;
  ms: number;
  error?: ShepherdError;
}

export interface AccountLimits {
  maxConcurrentCalls: number;
  /** 0: no rate limit. */
  callsPerSecond: number;
}

/**
 * One cloud account as the loop sees it: every call of every preset of the account goes through one
 * limiter (calls in flight, calls per second), idempotent calls are retried with backoff, and a circuit
 * breaker stops hammering an account whose API keeps failing. Creates are never retried here: an
 * ambiguous create is resolved by the next listing, not by repeating it.
 */
export class CloudAccount implements IaasDriver {
  private readonly queue: PQueue;
  private readonly idempotent: IPolicy;
  private readonly once: IPolicy;
  private inFlight = 0;
  /** Most calls ever in flight at once (benchmarks report it). */
  maxInFlight = 0;
  onCall: ((event: CloudCallEvent) => void) | undefined;

  constructor(
    readonly key: string,
    readonly driverName: string,
    private readonly driver: IaasDriver,
    limits: AccountLimits,
  ) {
    this.queue = new PQueue({
      concurrency: limits.maxConcurrentCalls,
      ...(limits.callsPerSecond > 0 ? { intervalCap: limits.callsPerSecond, interval: 1000 } : {}),
    });
    const transient = handleWhen((err) => err instanceof ShepherdError && err.retryable);
    const breaker = circuitBreaker(
      handleWhen((err) => err instanceof ShepherdError && err.class === 'primitive'),
      { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(20) },
    );
    this.once = breaker;
    this.idempotent = wrap(
      retry(transient, {
        maxAttempts: 2,
        backoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2000 }),
      }),
      breaker,
    );
  }

  get hasListAll(): boolean {
    return this.driver.listAll !== undefined || this.driver.listAllByPreset !== undefined;
  }

  list(preset: string, options?: CallOptions): Promise<Vm[]> {
    return this.call('list', this.idempotent, options, (o) => this.driver.list(preset, o));
  }

  listAll(options?: CallOptions): Promise<Vm[]> {
    const listAll = this.driver.listAll;
    if (!listAll) return Promise.reject(notImplemented('listAll', this.driverName));
    return this.call('listAll', this.idempotent, options, (o) => listAll.call(this.driver, o));
  }

  /**
   * The account's VMs by preset, each preset's decoded when taken: the driver's own grouped listing
   * where it has one, else its listing grouped here. Counted as the verb `listAll` either way.
   */
  listAllByPreset(options?: CallOptions): Promise<Map<string, () => Vm[]>> {
    const grouped = this.driver.listAllByPreset;
    if (grouped) return this.call('listAll', this.idempotent, options, (o) => grouped.call(this.driver, o));
    return this.listAll(options).then(byPreset);
  }

  get(vmId: string, options?: CallOptions): Promise<Vm | null> {
    return this.call('get', this.idempotent, options, (o) => this.driver.get(vmId, o));
  }

  create(spec: VmSpec, options: CreateOptions): Promise<Vm> {
    return this.call('create', this.once, options, (o) =>
      this.driver.create(spec, { ...o, idempotencyKey: options.idempotencyKey }),
    );
  }

  terminate(vmId: string, options?: CallOptions): Promise<void> {
    return this.call('terminate', this.idempotent, options, (o) => this.driver.terminate(vmId, o));
  }

  /** The driver's clean-up of server groups no configured preset asks for; nothing for a driver without one. */
  releaseGroups(presets: readonly PresetPlacement[], options?: CallOptions): Promise<void> {
    const release = this.driver.releaseGroups;
    if (!release) return Promise.resolve();
    return this.call('releaseGroups', this.once, options, (o) => release.call(this.driver, presets, o));
  }

  /** Runs an optional verb; a driver without it fails with `iaas_verb_1001`. */
  verb(name: IaasCapability, vmId: string, spec: VmSpec | undefined, options?: CallOptions): Promise<void> {
    const fn = this.driver.capabilities?.[name] as
      | ((id: string, a?: unknown, b?: unknown) => Promise<void>)
      | undefined;
    if (!fn) return Promise.reject(notImplemented(name, this.driverName));
    const caps = this.driver.capabilities;
    return this.call(name, this.once, options, (o) =>
      SPEC_VERBS.has(name) ? fn.call(caps, vmId, spec, o) : fn.call(caps, vmId, o),
    );
  }

  /** The driver's account for infrastructure locks, when it names one. */
  get lockAccount(): string | undefined {
    return this.driver.lockAccount;
  }

  get inPlaceFields(): readonly SpecField[] | undefined {
    return this.driver.inPlaceFields;
  }

  can(name: IaasCapability): boolean {
    return this.driver.capabilities?.[name] !== undefined;
  }

  close(): Promise<void> {
    return this.driver.close?.() ?? Promise.resolve();
  }

  private call<T>(
    verb: string,
    policy: IPolicy,
    options: CallOptions | undefined,
    fn: (o: CallOptions) => Promise<T>,
  ): Promise<T> {
    return inSpan(
      `vmshepherd.cloud.${verb}`,
      { 'vmshepherd.driver': this.driverName, 'vmshepherd.verb': verb },
      () => this.limited(verb, policy, options, fn),
    );
  }

  private async limited<T>(
    verb: string,
    policy: IPolicy,
    options: CallOptions | undefined,
    fn: (o: CallOptions) => Promise<T>,
  ): Promise<T> {
    const started = performance.now();
    try {
      const result = await policy.execute(
        ({ signal }) =>
          this.queue.add(
            async () => {
              this.inFlight++;
              this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
              try {
                return await fn({ signal });
              } finally {
                this.inFlight--;
              }
            },
            { signal },
          ),
        options?.signal,
      );
      this.onCall?.({ account: this.key, driver: this.driverName, verb, ms: performance.now() - started });
      return result as T;
    } catch (err) {
      const error = toShepherdError(err, verb, this.driverName);
      this.onCall?.({
        account: this.key,
        driver: this.driverName,
        verb,
        ms: performance.now() - started,
        error,
      });
      throw error;
    }
  }
}

function toShepherdError(err: unknown, verb: string, driver: string): ShepherdError {
  if (err instanceof ShepherdError) return err;
  if (err instanceof BrokenCircuitError)
    return new ShepherdError('iaas_call_2001', `${driver} ${verb}`, { cause: err });
  const e = err as Error;
  if (e?.name === 'AbortError' && e.cause instanceof ShepherdError) return e.cause;
  return new ShepherdError('iaas_call_1001', `${driver} ${verb}: ${e?.message ?? String(err)}`, {
    cause: err,
  });
}

function notImplemented(verb: string, driver: string): ShepherdError {
  return new ShepherdError('iaas_verb_1001', `${driver} has no ${verb}`, { details: { verb, driver } });
}

/**
 * A whole-account listing grouped by the preset each VM belongs to; a VM of no preset goes with the preset
 * it is named after (the original VmShepherd's, for adoption; others are never taken by any preset).
 */
function byPreset(vms: readonly Vm[]): Map<string, () => Vm[]> {
  const lists = new Map<string, Vm[]>();
  for (const vm of vms) {
    const preset = vm.metadata[META_PRESET] ?? vm.name;
    const list = lists.get(preset);
    if (list) list.push(vm);
    else lists.set(preset, [vm]);
  }
  const groups = new Map<string, () => Vm[]>();
  for (const [preset, list] of lists) groups.set(preset, () => list);
  return groups;
}
