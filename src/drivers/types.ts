/**
 * The four driver interfaces. Each is small on purpose (the original's were 1-4 methods): the reconcile
 * loop depends only on this file, never on a concrete driver.
 */
import type { Logger } from 'pino';
import type { TraceContext } from '../observability/task-tracing.js';
import type { Clock } from '../util/clock.js';

export type DriverKind = 'iaas' | 'presets' | 'runtime' | 'healthcheck';
export const DRIVER_KINDS: readonly DriverKind[] = ['iaas', 'presets', 'runtime', 'healthcheck'];

/** What every driver gets from the daemon. */
export interface DriverContext {
  logger: Logger;
  clock: Clock;
  /** This vmshepherd instance, e.g. `host-1234`; owners of leases. */
  instanceId: string;
  /** Directory of the main config file. */
  baseDir: string;
  /**
   * Resolves a path from driver options: relative to the config file's directory, or, when nothing
   * exists there, to the working directory (where the original resolved it).
   */
  resolvePath(path: string): string;
}

/** An option problem found by a driver; `path` is relative to the driver's block. */
export interface OptionIssue {
  path: (string | number)[];
  message: string;
  /** Set when the issue is an unknown key: the key itself, so the loader can point at it and suggest. */
  unknownKey?: string;
  /** The keys allowed where the unknown key was found (for the "did you mean" hint). */
  knownKeys?: readonly string[];
}

/**
 * `warnings`: values the parser converted the way the original used them (e.g. a number given as a
 * password), each reported with its position and never silent.
 */
export type OptionsResult<O> =
  | { ok: true; value: O; warnings?: OptionIssue[] }
  | { ok: false; issues: OptionIssue[]; warnings?: OptionIssue[] };

/** A driver as registered: a name, a kind, an option parser and a factory. */
export interface DriverDefinition<K extends DriverKind = DriverKind, O = unknown, I = DriverInstance<K>> {
  kind: K;
  name: string;
  description: string;
  /** Option keys this driver accepts (for "did you mean" hints and the JSON Schema). */
  optionKeys: readonly string[];
  parseOptions(raw: Record<string, unknown>): OptionsResult<O>;
  create(options: O, ctx: DriverContext): I | Promise<I>;
  /**
   * IaaS only: a key that is equal for two option sets that talk to the same cloud account. Presets of one
   * account share one driver instance, one call limiter and one listing per cycle. Defaults to all options.
   */
  accountKey?(options: O): string;
  /**
   * Option keys that say where the driver sends its credentials (`endpoints`: a URL, a clouds.yaml entry,
   * the TLS trust) and the credentials themselves (`secrets`). A preset that sets an endpoint must bring
   * its own secret, inherits none, and takes none from outside the options (`outside`: says from where
   * the options given would take credentials, e.g. a clouds.yaml entry, or nothing): credentials of the
   * main configuration only go where the main configuration points.
   */
  credentialRoutes?: {
    endpoints: readonly string[];
    secrets: readonly string[];
    outside?: (options: Record<string, unknown>) => string | undefined;
  };
  /** JSON Schema of the options, for editor completion of config and preset files. */
  optionsJsonSchema?: Record<string, unknown>;
}

export type DriverInstance<K extends DriverKind> = K extends 'iaas'
  ? IaasDriver
  : K extends 'presets'
    ? PresetStore
    : K extends 'runtime'
      ? RuntimeStore
      : HealthCheck;

// ---------------------------------------------------------------------------------------------------------
// IaaS

/** Cloud state of a VM, mapped by the driver (the original's OpenStack mapping lives in that driver). */
export type VmState =
  | 'pending'
  | 'running'
  | 'stopped'
  | 'error'
  /** Being deleted (Nova's task `deleting`): on its way out, neither counted nor deleted again. */
  | 'deleting'
  | 'terminated'
  | 'unknown';

/** Metadata keys vmshepherd writes on every VM it creates; membership is by these, never by name. */
export const META_PRESET = 'vmshepherd_preset';
export const META_SPEC = 'vmshepherd_spec';
export const META_IDEMPOTENCY = 'vmshepherd_idem';
export const META_REVISION = 'vmshepherd_revision';
/**
 * A fingerprint of each spec field the VM was brought to (see presets/spec-parts.ts): written only once the
 * cloud shows the change, so fields the cloud does not report (user data) are compared against it.
 */
export const META_PARTS = 'vmshepherd_parts';
/** The zone a create of a spread went to (a VM still scheduling may not report its zone yet). */
export const META_ZONE = 'vmshepherd_zone';
/** The original's VM lease: epoch seconds after which the VM is terminated. */
export const META_TIMED_SHUTDOWN = 'iaas_timed_shutdown';

/** The fields of a spec, each compared on its own and changed in place by its own operation. */
export type SpecField =
  | 'image'
  | 'flavor'
  | 'keyName'
  | 'userdata'
  | 'securityGroups'
  | 'networks'
  | 'availabilityZone'
  | 'volume'
  | 'configDrive';
export const SPEC_FIELDS: readonly SpecField[] = [
  'image',
  'flavor',
  'keyName',
  'userdata',
  'securityGroups',
  'networks',
  'availabilityZone',
  'volume',
  'configDrive',
];

/**
 * A VM as the cloud reports it. The spec fields (image ... availabilityZone) are what the cloud shows now,
 * left undefined when the cloud does not report that field (then the recorded fingerprint is compared).
 */
export interface Vm {
  id: string;
  name: string;
  state: VmState;
  /** The cloud's own status word (ACTIVE, BUILD, ...), for people. */
  providerStatus?: string;
  ips: string[];
  /** ISO 8601 UTC. */
  createdAt: string;
  metadata: Record<string, string>;
  /** Image name (or id when the name is unknown), and its id where the cloud tells it. */
  image?: string;
  imageId?: string;
  /** Flavor name (or id), and its id where the cloud tells it. */
  flavor?: string;
  flavorId?: string;
  /** The key pair; null: the cloud reports that the VM has none. */
  keyName?: string | null;
  /** Security group names, each once. */
  securityGroups?: string[];
  /** Networks as the preset names them (ids or names): only where the cloud can report them so. */
  networks?: string[];
  availabilityZone?: string;
  /**
   * The physical host the VM runs on, as the cloud names it to this account (Nova's `hostId`); absent
   * when the cloud does not tell it. Disruptions are limited per host by it (docs/locks.md).
   */
  host?: string;
  /** A resize waits for its confirmation (Nova's VERIFY_RESIZE): resumed by confirming it. */
  resizeUnconfirmed?: boolean;
  /** Why the cloud says the VM failed (kept for the panel). */
  fault?: string;
  /** Epoch ms from `iaas_timed_shutdown`, when set. */
  timedShutdownAt?: number;
  /** The cloud's own tags on the server (Nova server tags), when it has any. */
  tags?: string[];
}

/** Scheduler policies of a server group (Nova's names). */
export const SERVER_GROUP_POLICIES = [
  'anti-affinity',
  'soft-anti-affinity',
  'affinity',
  'soft-affinity',
] as const;
export type ServerGroupPolicy = (typeof SERVER_GROUP_POLICIES)[number];
/**
 * Where a preset's VMs are placed relative to each other: a group the driver creates and owns for the preset
 * (by `policy`), or an existing group (by `id`).
 */
export type ServerGroupSpec = { policy: ServerGroupPolicy } | { id: string };

/** A configured preset as `releaseGroups` sees it: its name and the server group it asks for. */
export interface PresetPlacement {
  preset: string;
  serverGroup?: ServerGroupSpec;
}

export interface NetworkSpec {
  securityGroups: string[];
  availabilityZone?: string;
  /** Network ids or names (the original's `subnets: [{net-id}]` and `subnet: [name]`). */
  subnets: string[];
  /** `network.networks`: interfaces after those of `subnets`, each a network (with a fixed IP) or a port. */
  nics?: NicSpec[];
}

/** One interface: a network by id or name, optionally with its fixed IP, or an existing port by id. */
export type NicSpec = { network: string; fixedIp?: string } | { port: string };

/** A root disk on a new volume made from the image (boot from volume). */
export interface VolumeSpec {
  /** GB. */
  size: number;
  /** Volume type; the cloud's default when absent. */
  type?: string;
  /** The volume is deleted with the VM. */
  deleteOnTermination: boolean;
}

/** What to build: everything the cloud needs, already rendered. */
export interface VmSpec {
  preset: string;
  name: string;
  image?: string;
  flavor?: string;
  keyName?: string;
  userdata?: string;
  network: NetworkSpec;
  volume?: VolumeSpec;
  /** Attach a config drive. */
  configDrive?: boolean;
  /** Includes the META_* keys and the preset's meta_tags. */
  metadata: Record<string, string>;
  specHash: string;
  /** The VM joins this server group (not part of the spec hash: no cloud moves a VM between groups). */
  serverGroup?: ServerGroupSpec;
}

export interface CallOptions {
  signal?: AbortSignal;
}

export interface CreateOptions extends CallOptions {
  /** Also in the VM metadata: a driver retrying an ambiguous create looks it up before creating again. */
  idempotencyKey: string;
}

/**
 * Optional verbs a driver may offer; calling an absent one fails with a not-implemented error. The ones
 * that change a spec field resolve only once the cloud shows the change done and the VM settled (no task
 * in progress), and never touch the VM's metadata: the loop records the spec with `setMetadata` after.
 */
export interface IaasCapabilities {
  stop?(vmId: string, options?: CallOptions): Promise<void>;
  start?(vmId: string, options?: CallOptions): Promise<void>;
  reboot?(vmId: string, options?: CallOptions): Promise<void>;
  /** Re-images the VM from the spec's image, with its key pair and user data (destroys the root disk). */
  rebuild?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Changes the flavor to the spec's, confirming the resize (also one found waiting for confirmation). */
  resize?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Adds and removes security groups until the VM has exactly the spec's. */
  setSecurityGroups?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Attaches and detaches interfaces until the VM is on exactly the spec's networks. */
  setNetworks?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
  /** Merges the spec's metadata into the VM's; nothing else changes. */
  setMetadata?(vmId: string, spec: VmSpec, options?: CallOptions): Promise<void>;
}
export type IaasCapability = keyof IaasCapabilities;
export const IAAS_CAPABILITIES: readonly IaasCapability[] = [
  'stop',
  'start',
  'reboot',
  'rebuild',
  'resize',
  'setSecurityGroups',
  'setNetworks',
  'setMetadata',
];
/** Verbs that take the spec they bring the VM to. */
export const SPEC_VERBS: ReadonlySet<IaasCapability> = new Set([
  'rebuild',
  'resize',
  'setSecurityGroups',
  'setNetworks',
  'setMetadata',
]);

export interface IaasDriver {
  /** VMs that belong to the preset (by metadata). */
  list(preset: string, options?: CallOptions): Promise<Vm[]>;
  /** Every VM of this account that belongs to any preset: one call may serve all presets of a cycle. */
  listAll?(options?: CallOptions): Promise<Vm[]>;
  /**
   * The same listing grouped by preset, each preset's VMs decoded only when its function is called
   * (once). Preferred by the loop where offered: a whole account held as objects for a cycle is most
   * of the daemon's memory at 100,000 VMs, while one preset's VMs live only as long as its manage.
   */
  listAllByPreset?(options?: CallOptions): Promise<Map<string, () => Vm[]>>;
  create(spec: VmSpec, options: CreateOptions): Promise<Vm>;
  /** Idempotent: a VM that is already gone is a success. */
  terminate(vmId: string, options?: CallOptions): Promise<void>;
  get(vmId: string, options?: CallOptions): Promise<Vm | null>;
  /**
   * The presets configured on this account now: server groups the driver created for a preset that is gone,
   * or that now asks for another policy, are deleted once they have no members. Called after every refresh
   * of the presets; a driver makes no call when nothing changed since the last one.
   */
  releaseGroups?(presets: readonly PresetPlacement[], options?: CallOptions): Promise<void>;
  capabilities?: IaasCapabilities;
  /**
   * The spec fields this driver changes in place (each by the verb reconcile/in-place.ts names for it);
   * default: every field whose verb it offers. A field left out is brought to the spec by replacing the VM.
   */
  inPlaceFields?: readonly SpecField[];
  /**
   * Names the cloud account for infrastructure locks (`account:<it>`), equal for every driver instance
   * that talks to the same account (OpenStack: auth URL and project). Never a secret: it is stored in the
   * runtime store and shown in plan reasons. Without it, the account level of `limits:` is skipped.
   */
  lockAccount?: string;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Presets store

/** One preset file as a store sees it. The core parses, validates and renders it. */
export interface PresetSource {
  /** Unique within the store, stable across reloads (e.g. the file path). */
  id: string;
  /** Path shown in errors, e.g. `presets/web.conf`. */
  file: string;
  /** Changes whenever the content may have changed (mtime hash, git blob id). */
  revision: string;
  /** Prefix of preset names, e.g. `team.` for GitRepoDriver. */
  namePrefix?: string;
  /** Directory `file://` userdata is read from unless the main config sets `userdata_source_root`. */
  sourceRoot: string;
  read(): Promise<string>;
}

export interface PresetSourceSet {
  sources: PresetSource[];
  /**
   * Problems of the store itself (a file that cannot be read, failed fetch); the sources still listed are
   * used. A store that cannot list at all (its directory is gone) throws instead: an empty list would
   * read as "no presets" and stop managing every one.
   */
  errors: Error[];
}

export interface PresetStore {
  /** Cheap when nothing changed: the core only reads sources whose revision changed. */
  load(options?: CallOptions): Promise<PresetSourceSet>;
  /** Calls `onChange` when sources may have changed; returns a function that stops watching. */
  watch?(onChange: () => void): () => void;
  close?(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------------
// Runtime store

export interface Lease {
  key: string;
  owner: string;
  /** Strictly increasing per key: a save carrying a lower token than the store's is refused. */
  token: number;
  /** Epoch ms (store clock). */
  expiresAt: number;
  /** True when this lease was taken over from a holder whose lease expired without being released. */
  takenOver: boolean;
}

export interface RuntimeStore {
  /** Takes the lease when it is free or expired; null when another owner holds it. */
  acquire(key: string, ttlMs: number, options?: CallOptions): Promise<Lease | null>;
  /** Extends the lease; null when it was lost (expired and taken, or released). */
  renew(lease: Lease, ttlMs: number, options?: CallOptions): Promise<Lease | null>;
  /** Releases only this lease (same key and token); releasing a lost lease is a no-op. */
  release(lease: Lease, options?: CallOptions): Promise<void>;
  load(preset: string, options?: CallOptions): Promise<unknown | null>;
  /** Refused with `runtime_save_0001` when the lease's token is stale. State is plain JSON. */
  save(preset: string, state: unknown, lease: Lease, options?: CallOptions): Promise<void>;
  close?(): Promise<void>;
  /**
   * Durable task records (verbs asked of VMs), shared by every instance on this store. Optional for
   * plugin stores: without it, the daemon keeps tasks in its own memory (not shared, lost on restart).
   */
  tasks?: TaskStore;
  /**
   * For a store whose leases also end with a session (ZooKeeper): what that session still promises. Taken
   * before the acquire request is sent; the lease keeper stops trusting the lease when `valid()` turns
   * false or `signal` aborts, whatever the lease's own TTL says.
   */
  leaseGuard?(): LeaseGuard;
  /**
   * Infrastructure locks (docs/locks.md): slots limiting disruptions per host, zone and account, shared
   * by every instance on this store. Optional for plugin stores: without it, `limits:` is refused.
   */
  locks?: LockStore;
}

/** Who holds a lock slot: shown in plan reasons and events of whoever waits for it. */
export interface LockOwner {
  instance: string;
  preset: string;
  vm: string;
  /** The disruptive call, e.g. `terminate`, `reboot`, `rebuild`. */
  operation: string;
}

/** One held slot of a lock. `id` names this hold only: a later holder of the same slot has another. */
export interface LockSlot {
  key: string;
  id: string;
  owner: LockOwner;
  /** Epoch ms (store clock); a slot whose time passed is free. */
  expiresAt: number;
}

/** A slot taken, or the holders that keep every slot busy. */
export type LockResult = { held: LockSlot } | { busy: LockSlot[] };

/**
 * Counting semaphores: `slots` holders of one key at a time, each under the preset lease it was taken
 * with. Every write is fenced by that lease as `save` is: a holder whose lease is no longer current cannot
 * take, extend or release a slot (`runtime_lock_0001` on take), and a hold is renewed or released only by
 * the id it was given, so no caller ever frees another's slot.
 */
export interface LockStore {
  acquireLock(
    key: string,
    slots: number,
    owner: LockOwner,
    lease: Lease,
    ttlMs: number,
    options?: CallOptions,
  ): Promise<LockResult>;
  /** Extends the hold; null when it was lost (expired and taken, released, or the lease is stale). */
  renewLock(slot: LockSlot, lease: Lease, ttlMs: number, options?: CallOptions): Promise<LockSlot | null>;
  /** Frees the hold; a hold already lost is a no-op. */
  releaseLock(slot: LockSlot, lease: Lease, options?: CallOptions): Promise<void>;
  /** The unexpired holds of a key. */
  listLocks(key: string, options?: CallOptions): Promise<LockSlot[]>;
}

export type TaskState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';
export const TASK_STATES: readonly TaskState[] = ['queued', 'running', 'done', 'failed', 'cancelled'];
/** A task is active until it is done, failed or cancelled. */
export const isActiveTask = (t: { state: TaskState }) => t.state === 'queued' || t.state === 'running';

/** One step of a task as recorded before it runs (`started`) and after (`done`, `skipped`). */
export interface TaskStep {
  name: string;
  state: 'started' | 'done' | 'skipped';
  /** ISO 8601 UTC. */
  at: string;
  /** The instance that ran it, and the fencing token of the preset lease it ran under. */
  instance: string;
  token: number;
  note?: string;
}

/**
 * A verb asked of a VM, from request to outcome, as every instance sees it. Plain JSON. `revision` is the
 * store's compare-and-set counter: a write carrying an older revision than the stored one is refused.
 */
export interface TaskRecord {
  id: string;
  preset: string;
  /** The VM, for a verb or a terminate; absent for an action on the whole preset. */
  vm?: string;
  /** What it does: a verb (quiesce, restart, scrub, restore, update) or manage, pause, resume, terminate. */
  verb: string;
  /** Who asked (token name, `cli`...). */
  by: string;
  state: TaskState;
  steps: TaskStep[];
  /** What the steps decided and must find again when the task is resumed (e.g. the transition). */
  data?: Record<string, string | number | null>;
  error?: { code: string; message: string; step?: string };
  /** ISO 8601 UTC. */
  createdAt: string;
  startedAt?: string;
  finishedAt?: string;
  idempotencyKey?: string;
  /** The instance that ran it last, and the fencing token it ran under. */
  executor?: string;
  token?: number;
  /** How many times an executor took it up (a resume after a dead executor is one more). */
  attempts: number;
  revision: number;
  /** The submitting request's W3C trace context, when it was traced: the executor's spans link to it. */
  trace?: TaskTraceContext;
}

/** W3C Trace Context headers (https://www.w3.org/TR/trace-context/), as a request carried them. */
export type TaskTraceContext = TraceContext;

export interface TaskFilter {
  preset?: string;
  /** Only queued and running tasks. */
  active?: boolean;
  /** At most this many, newest first (default: all). */
  limit?: number;
}

/**
 * Task records in the runtime store. Writes by the executor are fenced like `save`: they carry the preset
 * lease, and are refused when its token is stale or the task changed since it was read (cancelled).
 */
export interface TaskStore {
  /**
   * Stores a new task (revision 0). With an `idempotencyKey` already used, stores nothing and returns the
   * task that has it (`created: false`).
   */
  submitTask(task: TaskRecord, options?: CallOptions): Promise<{ task: TaskRecord; created: boolean }>;
  getTask(id: string, options?: CallOptions): Promise<TaskRecord | null>;
  /** The task that has this idempotency key, until it is purged. */
  getTaskByKey(key: string, options?: CallOptions): Promise<TaskRecord | null>;
  /** Newest first. */
  listTasks(filter?: TaskFilter, options?: CallOptions): Promise<TaskRecord[]>;
  /**
   * Writes `task` (whose `revision` is the one read) under the preset lease; returns it with the new
   * revision. `runtime_task_0001` when the lease's token is stale or the task changed meanwhile.
   */
  updateTask(task: TaskRecord, lease: Lease, options?: CallOptions): Promise<TaskRecord>;
  /**
   * Cancels a queued task, or a running one waiting for the disruption budget (`data.waiting`);
   * `api_task_0002` once a step of it runs or it ended; `api_task_0001` when unknown.
   */
  cancelTask(id: string, by: string, options?: CallOptions): Promise<TaskRecord>;
  /** Deletes tasks that ended before `before` (epoch ms); returns how many. */
  purgeTasks(before: number, options?: CallOptions): Promise<number>;
}

/** A store's own promise about the leases it gives now (see `RuntimeStore.leaseGuard`). */
export interface LeaseGuard {
  readonly signal: AbortSignal;
  valid(): boolean;
}

// ---------------------------------------------------------------------------------------------------------
// Health checks

export type Verdict = 'healthy' | 'unhealthy' | 'unknown';

export interface HealthResult {
  verdict: Verdict;
  reason?: string;
  /** Catalogue code for a failed or impossible check. */
  code?: string;
  latencyMs: number;
}

export interface HealthCheck {
  /** Never throws for a failed check: a timeout or refused connection is an `unhealthy` verdict. */
  check(vm: Vm, options?: CallOptions): Promise<HealthResult>;
  close?(): Promise<void>;
}

/** Used by drivers to build their definitions with type inference. */
export function defineDriver<K extends DriverKind, O>(
  definition: DriverDefinition<K, O, DriverInstance<K>>,
): DriverDefinition<K, O, DriverInstance<K>> {
  return definition;
}
