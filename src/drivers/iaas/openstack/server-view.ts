import { META_TIMED_SHUTDOWN, type Vm, type VmState } from '../../types.js';
import { faultCode } from './errors.js';

/** A Nova server as GET /servers/detail returns it (microversion 2.47: the flavor is embedded). */
export interface NovaServer {
  id: string;
  name: string;
  status: string;
  created?: string;
  metadata?: Record<string, string>;
  addresses?: Record<string, { addr: string; version?: number }[]>;
  image?: { id?: string } | string | null;
  flavor?: { id?: string; original_name?: string };
  fault?: { message?: string; code?: number; details?: string };
  'OS-EXT-STS:task_state'?: string | null;
  'OS-EXT-STS:vm_state'?: string | null;
  'OS-EXT-AZ:availability_zone'?: string;
  /** The host as this project sees it: a digest of project and host name, empty while unscheduled. */
  hostId?: string;
  key_name?: string | null;
  security_groups?: { name: string }[];
  /** Server tags (microversion 2.26 and later). */
  tags?: string[];
}

/**
 * The original's mapping (ACTIVE → running, BUILD → pending, anything else unknown or dead), made finer
 * where the loop needs it: ERROR and SHUTOFF keep their meaning (both are dead to the loop unless an
 * operator quiesced the VM). In-place tasks (reboot, rebuild, resize, power on/off) are `unknown`, not
 * pending: the loop measures pending from the creation time, so an old server being rebooted would look
 * stuck and be replaced; unknown servers are kept and counted.
 */
const STATES: Record<string, VmState> = {
  ACTIVE: 'running',
  PASSWORD: 'running',
  BUILD: 'pending',
  ERROR: 'error',
  SHUTOFF: 'stopped',
  SUSPENDED: 'stopped',
  PAUSED: 'stopped',
  SHELVED: 'stopped',
  SHELVED_OFFLOADED: 'stopped',
  DELETED: 'terminated',
  SOFT_DELETED: 'terminated',
};

/** Task states of a server changing in place (Nova sets them before it answers the action). */
const IN_PLACE_TASK = /^(powering-(on|off)|reboot|rebuild|resize|migrat|unshelv|unpaus|resum)/;

export function stateOf(s: Pick<NovaServer, 'status' | 'OS-EXT-STS:task_state'>): VmState {
  const task = s['OS-EXT-STS:task_state'] ?? '';
  // A server being deleted still says ACTIVE for a moment: on its way out, not to be deleted again.
  if (task === 'deleting') return 'deleting';
  if (s.status !== 'BUILD' && s.status !== 'ERROR' && IN_PLACE_TASK.test(task)) return 'unknown';
  return STATES[s.status] ?? 'unknown';
}

/** IPv4 addresses first, in network order, each once. */
export function ipsOf(addresses: NovaServer['addresses']): string[] {
  const all = Object.values(addresses ?? {}).flat();
  const v4 = all.filter((a) => a.version !== 6 && !a.addr.includes(':')).map((a) => a.addr);
  const v6 = all.filter((a) => a.version === 6 || a.addr.includes(':')).map((a) => a.addr);
  return [...new Set([...v4, ...v6])];
}

export interface NameLookup {
  image(id: string): string | undefined;
  flavor(id: string): string | undefined;
}

/** A Nova server as a Vm (pure). Image and flavor are shown by name when known. */
export function serverToVm(s: NovaServer, names?: NameLookup): Vm {
  const metadata = { ...(s.metadata ?? {}) };
  const imageId = typeof s.image === 'object' && s.image ? s.image.id : undefined;
  const flavor =
    s.flavor?.original_name ?? (s.flavor?.id ? (names?.flavor(s.flavor.id) ?? s.flavor.id) : undefined);
  const image = imageId ? (names?.image(imageId) ?? imageId) : undefined;
  const shutdown = Number(metadata[META_TIMED_SHUTDOWN]);
  const state = stateOf(s);
  const faultText = s.fault?.message;
  const zone = s['OS-EXT-AZ:availability_zone'];
  return {
    id: s.id,
    name: s.name,
    state,
    providerStatus: s.status,
    ips: ipsOf(s.addresses),
    createdAt: s.created ?? new Date(0).toISOString(),
    metadata,
    ...(image ? { image } : {}),
    ...(imageId ? { imageId } : {}),
    ...(flavor ? { flavor } : {}),
    ...(s.key_name !== undefined ? { keyName: s.key_name } : {}),
    ...(s.security_groups ? { securityGroups: [...new Set(s.security_groups.map((g) => g.name))] } : {}),
    ...(zone ? { availabilityZone: zone } : {}),
    ...(s.hostId ? { host: s.hostId } : {}),
    ...(s.status === 'VERIFY_RESIZE' ? { resizeUnconfirmed: true } : {}),
    ...(faultText && state === 'error' ? { fault: `${faultText} [${faultCode(faultText)}]` } : {}),
    ...(Number.isFinite(shutdown) && shutdown > 0 ? { timedShutdownAt: shutdown * 1000 } : {}),
    // Kept for get_vm_metadata's `tags`, which the original read from the server; absent when none (most).
    ...(s.tags && s.tags.length > 0 ? { tags: s.tags } : {}),
  };
}
