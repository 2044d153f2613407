import type { Vm, VmSpec } from '../drivers/types.js';
import { META_ZONE } from '../drivers/types.js';
import { asShepherdError, type ShepherdError } from '../errors/shepherd-error.js';
import { errorFields } from '../observability/error-fields.js';
import type { ApplyContext } from './apply.js';
import {
  type CapacityFound,
  type CapacitySkip,
  type CapacitySkips,
  fixedZone,
  flavorsFor,
} from './capacity-skips.js';
import { idempotencyKey, vmSpec } from './spec.js';
import { zonesForCreates } from './zone-spread.js';

export interface CreateOutcome {
  created: Vm[];
  failed: ShepherdError[];
  /** Placements (zone, flavor) a create found without capacity in this manage (with fallbacks only). */
  full: CapacityFound[];
  /** Where each VM created went: a placement that took a VM has room again. */
  placed: { zone: string; flavor: string }[];
}

/** Where creates go: the preset's spread as the plan found it (zone-spread.ts), and the capacity skips. */
export interface CreatePlacement {
  counts: Readonly<Record<string, number>>;
  skipped: readonly string[];
  /** Flavors found full per zone (state.capacity): each create tries the others first. */
  capacity?: CapacitySkips | undefined;
  now?: number;
  /** A rebalancing move: the create goes to this zone or nowhere (no other zone, no failure counted). */
  onlyTo?: string | undefined;
}

/**
 * Creates `n` VMs, at most `create_concurrency` at once. A failed create is not repeated in this manage:
 * whether it took effect is seen on the next listing. With fallbacks, within one create a capacity error
 * (no valid host) tries the next flavor of the preset's list, then, for a preset spread over zones, the
 * zone with the fewest VMs among those not found full; what was found full is skipped by the other creates
 * of the manage and, through the state (capacity-skips.ts), by the next manages. Only when every flavor in
 * every zone had no room does the create fail (and the create backoff stops it for `quota_window`).
 */
export async function applyCreates(
  n: number,
  ctx: ApplyContext,
  placement?: CreatePlacement,
): Promise<CreateOutcome> {
  const run = new CreateRun(n, ctx, placement);
  await Promise.all(Array.from({ length: Math.min(n, ctx.preset.createConcurrency) }, () => run.worker()));
  return run.outcome;
}

type Got = { vm: Vm; flavor?: string | undefined; passed: string[] };

/** The creates of one manage: shared by its workers, with what they found full so far. */
class CreateRun {
  readonly outcome: CreateOutcome = { created: [], failed: [], full: [], placed: [] };
  private readonly zones: string[];
  private readonly fallbacks: boolean;
  private readonly counts: Record<string, number>;
  private readonly now: number;
  /** What is known full: the state's skips, and what this manage's creates found. */
  private readonly known: CapacitySkip[];
  /** Zones found full (every flavor) in this manage. */
  private readonly fullZone = new Set<string>();
  private next = 0;
  /** One string for all creates of this manage. */
  private readonly reason: string;

  constructor(
    private readonly n: number,
    private readonly ctx: ApplyContext,
    private readonly placement: CreatePlacement | undefined,
  ) {
    const preset = ctx.preset;
    this.zones = preset.zones.length > 1 ? preset.zones : [];
    this.fallbacks = this.zones.length > 0 || preset.flavors.length > 1;
    this.counts = { ...placement?.counts };
    this.now = placement?.now ?? 0;
    this.known = [...(placement?.capacity ?? [])];
    this.reason = `missing VMs (spec ${preset.specHash})`;
  }

  async worker(): Promise<void> {
    const zones = this.zones;
    while (this.next < this.n && !this.ctx.stopping.aborted) {
      this.next++;
      let zone = zones.length > 0 ? this.pickZone() : undefined;
      if (zones.length > 0 && zone === undefined) return; // every zone is full: nothing left to try
      for (;;) {
        if (zone !== undefined) this.counts[zone] = (this.counts[zone] ?? 0) + 1; // in flight counts for the next pick
        try {
          this.created(zone, await this.createIn(zone));
          break;
        } catch (err) {
          if (zone !== undefined) this.counts[zone] = (this.counts[zone] ?? 1) - 1;
          const error = asShepherdError(err, 'reconcile_create_0001');
          if (zone !== undefined && error.limit === 'capacity') {
            const other = this.zoneFull(zone, error);
            if (other !== undefined) {
              zone = other;
              continue;
            }
            if (this.placement?.onlyTo !== undefined) break; // a move waits for room: nothing failed
          }
          this.failed(error);
          if (error.code === 'runtime_lease_0001') return;
          break;
        }
      }
    }
  }

  private flavorsIn(zone: string): (string | undefined)[] {
    const flavors = this.ctx.preset.flavors;
    return flavors.length === 0 ? [undefined] : flavorsFor(flavors, zone, this.known, this.now);
  }

  /** Zones skipped by earlier manages are tried again only when no other zone is left. */
  private pickZone(): string | undefined {
    const onlyTo = this.placement?.onlyTo;
    if (onlyTo !== undefined) return this.fullZone.has(onlyTo) ? undefined : onlyTo;
    const left = this.zones.filter((z) => !this.fullZone.has(z));
    const open = left.filter((z) => !this.placement?.skipped.includes(z));
    return zonesForCreates(open.length > 0 ? open : left, this.counts, [], 1)[0];
  }

  /** Notes a zone without capacity (logged once) and names the next zone to try, if any. */
  private zoneFull(zone: string, error: ShepherdError): string | undefined {
    if (!this.fullZone.has(zone)) {
      this.fullZone.add(zone);
      this.ctx.logger.warn(
        { zone, ...errorFields(error), fence: this.ctx.lease.token },
        'zone without capacity',
      );
    }
    return this.pickZone();
  }

  /** One create in a zone, trying the preset's flavors in order while they fail for capacity. */
  private async createIn(zone: string | undefined): Promise<Got> {
    const { ctx } = this;
    const preset = ctx.preset;
    const passed: string[] = [];
    const key = zone ?? fixedZone(preset);
    let last: ShepherdError | undefined;
    for (const flavor of this.flavorsIn(key)) {
      if (flavor !== undefined && passed.includes(flavor)) continue;
      ctx.lease.assertValid();
      try {
        const vm = await ctx.cloud.create(specIn(preset, zone, flavor), {
          idempotencyKey: idempotencyKey(ctx.lease.token),
          signal: ctx.lease.signal,
        });
        return { vm, flavor, passed };
      } catch (err) {
        const error = asShepherdError(err, 'reconcile_create_0001');
        if (error.limit !== 'capacity' || !this.fallbacks) throw error;
        last = error;
        const found = { zone: key, flavor: flavor ?? '', reason: error.message, code: error.code };
        this.outcome.full.push(found);
        this.known.push({ ...found, until: Number.POSITIVE_INFINITY });
        if (flavor !== undefined) passed.push(flavor);
      }
    }
    throw last as ShepherdError;
  }

  private created(zone: string | undefined, got: Got): void {
    const { ctx } = this;
    const preset = ctx.preset;
    this.outcome.created.push(got.vm);
    if (this.fallbacks)
      this.outcome.placed.push({ zone: zone ?? fixedZone(preset), flavor: got.flavor ?? '' });
    const fallback =
      got.passed.length > 0 ? `; flavor ${got.flavor} (no capacity for ${got.passed.join(', ')})` : '';
    const data = {
      ...(zone ? { zone } : {}),
      ...(this.fallbacks && got.flavor ? { flavor: got.flavor } : {}),
    };
    ctx.record({
      type: 'created',
      vm: got.vm.id,
      reason: `${this.reason}${zone ? `; zone ${zone}` : ''}${fallback}`,
      revision: preset.source.revision,
      ...(Object.keys(data).length > 0 ? { data } : {}),
    });
    ctx.logger.info(
      { vm: got.vm.id, name: got.vm.name, zone, flavor: got.flavor, fence: ctx.lease.token },
      'created VM',
    );
  }

  private failed(error: ShepherdError): void {
    this.outcome.failed.push(error);
    this.ctx.record({ type: 'create_failed', reason: error.message, code: error.code });
    this.ctx.logger.warn({ ...errorFields(error), fence: this.ctx.lease.token }, 'create failed');
  }
}

/** The preset's spec for one create: in a zone (recorded in its metadata) and of a flavor of its list. */
function specIn(
  preset: ApplyContext['preset'],
  zone: string | undefined,
  flavor: string | undefined,
): VmSpec {
  const base = vmSpec(preset);
  return {
    ...base,
    ...(flavor ? { flavor } : {}),
    ...(zone
      ? {
          network: { ...base.network, availabilityZone: zone },
          metadata: { ...base.metadata, [META_ZONE]: zone },
        }
      : {}),
  };
}
