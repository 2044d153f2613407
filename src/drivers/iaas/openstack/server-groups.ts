import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import type { PresetPlacement, ServerGroupPolicy, ServerGroupSpec } from '../../types.js';
import { TtlCache } from './ttl-cache.js';

/** Nova's server group at microversion 2.64 (`policy` as one string; `members` are server ids). */
export interface NovaServerGroup {
  id: string;
  name: string;
  policy?: string;
  members?: string[];
}

/** Groups vmshepherd creates are named so; it deletes only groups of this prefix. */
export const OWN_GROUP_PREFIX = 'vmshepherd-';

/** The name of the group vmshepherd owns for a preset and policy (found again by it after a restart). */
export function ownGroupName(preset: string, policy: ServerGroupPolicy): string {
  return `${OWN_GROUP_PREFIX}${preset}-${policy}`;
}

/** The names of the groups the configured presets ask vmshepherd to own. Pure. */
export function wantedGroups(presets: readonly PresetPlacement[]): Set<string> {
  const out = new Set<string>();
  for (const p of presets)
    if (p.serverGroup && 'policy' in p.serverGroup) out.add(ownGroupName(p.preset, p.serverGroup.policy));
  return out;
}

/**
 * Of the project's groups, vmshepherd's that no configured preset asks for: `empty` ones are deleted, the
 * others (`held`: an orphaned preset's servers are still in them) are looked at again later. Pure.
 */
export function unwantedGroups(
  groups: readonly NovaServerGroup[],
  wanted: ReadonlySet<string>,
): { empty: NovaServerGroup[]; held: NovaServerGroup[] } {
  const unwanted = groups.filter((g) => g.name.startsWith(OWN_GROUP_PREFIX) && !wanted.has(g.name));
  return {
    empty: unwanted.filter((g) => (g.members ?? []).length === 0),
    held: unwanted.filter((g) => (g.members ?? []).length > 0),
  };
}

/** What the group calls need from the driver: a compute call at microversion 2.64. */
export type GroupCall = (
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body: unknown,
  signal: AbortSignal | undefined,
) => Promise<unknown>;

/**
 * The server groups of one project: the group a create joins (`hintFor`), made once per preset and policy
 * and found again by name, and the deletion of vmshepherd's groups no preset asks for (`release`). The
 * project's groups are listed at most once per `ttlMs` (a miss reloads at most every 5 s), so steady cycles
 * make no group call.
 */
export class ServerGroups {
  private readonly cache: TtlCache<NovaServerGroup>;
  /** Groups this process made or found, by name: a create after the first makes no call. */
  private readonly known = new Map<string, Promise<NovaServerGroup>>();
  private lastWanted: string | undefined;
  private heldUntil = 0;

  constructor(
    private readonly call: GroupCall,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {
    this.cache = new TtlCache((s) => this.list(s), clock, ttlMs);
  }

  /** The group id a create of this spec carries as its scheduler hint. */
  async hintFor(
    spec: ServerGroupSpec | undefined,
    preset: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    if (!spec) return undefined;
    if ('id' in spec) return spec.id;
    const name = ownGroupName(preset, spec.policy);
    let group = this.known.get(name);
    if (!group) {
      group = this.findOrMake(name, spec.policy, signal);
      this.known.set(name, group);
      group.catch(() => this.known.delete(name));
    }
    return (await group).id;
  }

  /** Forgets every group known: after a create the cloud refused, one may have been deleted behind our back. */
  invalidate(): void {
    this.known.clear();
    this.cache.forget();
  }

  /**
   * Deletes vmshepherd's groups that no configured preset asks for and that have no members. Lists the
   * groups only when the wanted set changed (and once after a start), or when a group was still held by
   * servers at the last look and `ttlMs` has passed.
   */
  async release(presets: readonly PresetPlacement[], signal?: AbortSignal): Promise<void> {
    const wanted = wantedGroups(presets);
    const key = [...wanted].sort().join('\n');
    const heldDue = this.heldUntil > 0 && this.clock.now() >= this.heldUntil;
    if (key === this.lastWanted && !heldDue) return;
    const { empty, held } = unwantedGroups(await this.list(signal), wanted);
    for (const g of empty) {
      await this.call('DELETE', `/os-server-groups/${encodeURIComponent(g.id)}`, undefined, signal);
      this.known.delete(g.name);
    }
    if (empty.length > 0) this.cache.forget();
    this.lastWanted = key;
    this.heldUntil = held.length > 0 ? this.clock.now() + this.ttlMs : 0;
  }

  private async findOrMake(name: string, policy: ServerGroupPolicy, signal?: AbortSignal) {
    const [found] = await this.cache.find((g) => g.name === name, signal);
    if (found) {
      if (found.policy !== undefined && found.policy !== policy)
        throw new ShepherdError(
          'openstack_group_0001',
          `server group ${name} (${found.id}) has policy ${found.policy}, the preset asks for ${policy}`,
        );
      return found;
    }
    const made = (await this.call(
      'POST',
      '/os-server-groups',
      { server_group: { name, policy } },
      signal,
    )) as {
      server_group: NovaServerGroup;
    };
    return made.server_group;
  }

  private async list(signal?: AbortSignal): Promise<NovaServerGroup[]> {
    const body = (await this.call('GET', '/os-server-groups', undefined, signal)) as {
      server_groups?: unknown;
    };
    if (!Array.isArray(body?.server_groups))
      throw new ShepherdError(
        'openstack_answer_2001',
        "GET compute /os-server-groups: no 'server_groups' list",
      );
    return body.server_groups as NovaServerGroup[];
  }
}
