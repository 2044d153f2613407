/**
 * The error catalogue: every error that leaves a driver or a core module carries one of these codes.
 * Code format `<owner>_<verb>_NNNN`; the first digit is the class (see ARCHITECTURE.md):
 * 0xxx a remote API refused, 1xxx our own invariant or input, 2xxx the primitive itself failed.
 * docs/errors.md is generated from this file (`npm run gen`) and a test keeps the two in sync.
 */
export interface CodeSpec {
  /** One line: what happened. */
  readonly message: string;
  /** What an operator does about it. */
  readonly fix: string;
  /** How the daemon treats it: `backoff` retries later with backoff, `no` needs a fix, `success` is not a failure. */
  readonly retry: 'no' | 'backoff' | 'success';
  /** Status the HTTP API answers with when this error reaches a caller. */
  readonly http: number;
  /** Quota and capacity errors stop creation of that flavor for a window instead of a short backoff. */
  readonly limit?: 'quota' | 'capacity';
}

const no = (message: string, fix: string, http = 400): CodeSpec => ({ message, fix, retry: 'no', http });
const backoff = (message: string, fix: string, http = 503): CodeSpec => ({
  message,
  fix,
  retry: 'backoff',
  http,
});
const quota = (message: string, fix: string): CodeSpec => ({
  message,
  fix,
  retry: 'backoff',
  http: 403,
  limit: 'quota',
});
const capacity = (message: string, fix: string): CodeSpec => ({
  message,
  fix,
  retry: 'backoff',
  http: 503,
  limit: 'capacity',
});

export const CODES = {
  // configuration
  config_load_1001: no(
    'The YAML of the configuration file is malformed',
    'Fix the syntax at the position given.',
  ),
  config_load_1002: no(
    'A configuration value is invalid',
    'Change the value at the position given to one the message allows.',
  ),
  config_load_1003: no(
    'Unknown configuration key',
    'Remove or rename the key; the message suggests the closest known key.',
  ),
  config_load_1004: no(
    'An environment variable used in the configuration is not set',
    'Export the variable, or give a default with ${NAME:-default}.',
  ),
  config_load_2001: no('The configuration file cannot be read', 'Check the path and its permissions.', 500),

  // presets
  preset_load_1001: no(
    'The YAML of a preset file is malformed',
    'Fix the syntax at the position given; the other presets keep being managed.',
  ),
  preset_load_1002: no(
    'A preset value is invalid',
    'Change the value at the position given; the other presets keep being managed.',
  ),
  preset_load_1003: no(
    'Unknown key in a preset block',
    'Remove or rename the key; the message suggests the closest known key.',
  ),
  preset_load_1004: no(
    'Two preset files declare the same preset name',
    'Rename one of them; the first file (in path order) is managed.',
  ),
  preset_load_1005: no(
    'A preset file changed and is now invalid: the last good revision is still managed',
    'Fix the file; until then vmshepherd keeps managing the revision it last loaded successfully.',
  ),
  preset_load_1006: no(
    'Unknown top-level preset key, kept as a template variable, looks like a misspelled key',
    'Rename it if it is a typo; keys the schema does not know are template variables, as in the original.',
  ),
  preset_load_1007: no('flavor and flavour are both set, to different values', 'Keep one of them.'),
  preset_load_2001: no(
    'A preset file or directory cannot be read',
    'Check the path and its permissions.',
    500,
  ),
  preset_render_1001: no(
    'The userdata template cannot be rendered',
    'Fix the template at the position given (Jinja syntax).',
  ),
  preset_render_1002: no(
    'A file:// userdata path or userdata_source_root leaves the allowed source root',
    'Keep userdata files inside the preset directory (or the userdata_source_root set in the main config).',
  ),
  preset_render_2001: no(
    'A file:// userdata file cannot be read',
    'Check that the file exists next to the preset and is readable.',
    500,
  ),

  // GitRepoDriver: presets from git repositories (docs/presets-git.md)
  git_fetch_0001: backoff(
    'The git server refused the fetch: authentication or permission',
    'Check the credentials of this repository (ssh_key, token_env, credential_helper); the last good commit is still managed.',
    502,
  ),
  git_fetch_0002: no(
    'The branch or ref of a repository does not exist on the git server',
    'Fix `branch`/`ref` of the repository or push it; the last good commit is still managed.',
    404,
  ),
  git_fetch_1001: no(
    'A repository credential is missing: the environment variable named by token_env is not set',
    'Export the variable in the environment of vmshepherd; the last good commit is still managed.',
    500,
  ),
  git_fetch_2001: backoff(
    'Fetching a preset repository failed (network, timeout, unreachable server)',
    'Check that the server answers; vmshepherd retries on the next refresh and keeps managing the last good commit.',
    502,
  ),
  git_accept_1001: no(
    'A new commit of a preset repository was refused: it holds no preset file (garbage); the last good commit is still managed',
    'Push a commit whose `path` holds at least one *.conf preset with a name (revert the bad push).',
    422,
  ),
  git_clone_2001: no(
    'The clone directory of a repository cannot be prepared or written',
    'Check `clone_dir`, its permissions and free space; clone_dir/<key> must be a git repository or absent.',
    500,
  ),
  preset_orphan_0001: no(
    'VMs of a preset that is no longer configured are left alone (orphans)',
    'Terminate them yourself, or restore the preset file to manage them again; vmshepherd never deletes them.',
    409,
  ),

  // driver registry
  driver_resolve_1001: no(
    'No driver with this name is built in or declared by an installed package',
    'Check the spelling (`vmshepherd drivers` lists what resolves) or install the plugin package.',
  ),
  driver_resolve_1002: no(
    'A plugin package declares a driver that cannot be loaded',
    'Reinstall the plugin package or fix its package.json `vmshepherd.drivers` entry.',
    500,
  ),
  driver_resolve_1003: no(
    'The driver exists but is of another kind',
    'Use a driver of the kind this block expects (`vmshepherd drivers` lists kinds).',
  ),
  driver_options_1001: no('A driver option is invalid', 'Change the option at the position given.'),

  // the simulated cloud
  dummy_create_0001: quota(
    'Simulated cloud: instance quota exceeded',
    'Raise `quota.instances` of DummyIaasDriver or lower `count`.',
  ),
  dummy_create_0002: capacity(
    'Simulated cloud: no capacity left for this flavor',
    'Raise `capacity.<flavor>` of DummyIaasDriver or use another flavor.',
  ),
  dummy_call_2001: backoff(
    'Simulated cloud: the call failed (injected fault)',
    'None needed: injected by `error_rate`; the call is retried.',
    502,
  ),
  dummy_call_2002: backoff(
    'Simulated cloud: the call timed out',
    'None needed: injected by `slow_calls`; the outcome is observed on the next listing.',
    504,
  ),
  dummy_boot_2001: backoff(
    'Simulated cloud: the VM failed to boot',
    'None needed: injected by `boot_failure_rate`; the VM is replaced.',
    502,
  ),
  dummy_run_2001: backoff(
    'Simulated cloud: the VM died',
    'None needed: injected by `death_rate`; the VM is replaced.',
    502,
  ),
  dummy_call_2003: backoff(
    'Simulated cloud: the simulator (`vmshepherd simulator`) at `endpoint` is unreachable or refused the call',
    'Start the simulator, or check `endpoint` and `token`.',
    502,
  ),
  dummy_state_2001: no(
    'Simulated cloud: the state file cannot be read or written',
    'Check `state_file` and its directory permissions.',
    500,
  ),
  dummy_op_0001: no('Simulated cloud: no VM with this id', 'The VM is gone; nothing to do.', 404),
  dummy_op_0002: no(
    'Simulated cloud: the VM is not in a state that allows this operation',
    'Wait for the VM to reach a stable state.',
    409,
  ),
  dummy_create_0003: no(
    'Simulated cloud: unknown image or flavor',
    'Use one of the `images`/`flavors` listed in the DummyIaasDriver options.',
    400,
  ),

  // any IaaS driver, through the per-account limiter
  iaas_call_1001: no(
    'An IaaS driver failed with an error that has no catalogue code',
    "Report it to the driver's authors; the cause is in the log line.",
    502,
  ),
  iaas_call_2001: backoff(
    'Cloud calls of this account are suspended after repeated failures (circuit open)',
    'Check the cloud API; calls resume by themselves after a pause.',
  ),
  iaas_verb_1001: no(
    'The IaaS driver does not implement this operation',
    'Use a driver that offers it, or another verb.',
    501,
  ),

  // runtime stores and leases
  runtime_save_0001: no(
    'State not saved: the lease was lost or taken over (stale fencing token)',
    'None needed: another instance manages the preset now.',
    409,
  ),
  runtime_lease_0001: no(
    'The preset lease was lost while managing',
    'None needed: the manage stops and another instance takes over; check runtime store latency if frequent.',
    409,
  ),
  postgres_call_2001: backoff(
    'PostgreSQL runtime store unreachable or failing: leases and states cannot be read or written',
    'Check the database server and the connection options; managing resumes by itself when it answers.',
  ),
  postgres_migrate_1001: no(
    'The PostgreSQL runtime tables were created by a newer vmshepherd, or a migration failed',
    'Run the newer vmshepherd, or use another `schema`/`table_prefix`; see docs/runtime.md.',
    500,
  ),
  zookeeper_call_2001: backoff(
    'ZooKeeper runtime store unreachable, or its session expired: leases held through it are lost',
    'Check the ZooKeeper servers and `session_timeout`; managing resumes by itself when they answer.',
  ),

  // health checks (verdict codes: a failed check is a verdict, never an exception)
  http_check_0001: backoff(
    'HTTP health check: unexpected status',
    'Check the service on the VM, or `check_status`.',
    503,
  ),
  http_check_2001: backoff(
    'HTTP health check: timed out',
    'Check the service on the VM, or raise `conn_timeout`/`read_timeout`.',
    504,
  ),
  http_check_2002: backoff(
    'HTTP health check: connection failed',
    'Check the service on the VM and `port`.',
    502,
  ),
  tcp_check_2001: backoff(
    'TCP health check: timed out',
    'Check the service on the VM, or raise `timeout`.',
    504,
  ),
  tcp_check_2002: backoff(
    'TCP health check: connection failed',
    'Check the service on the VM and `port`.',
    502,
  ),
  health_check_0001: backoff(
    'Health check not possible: the VM has no IP address',
    'None needed while the VM boots.',
    503,
  ),
  health_check_2001: backoff(
    'Health check did not answer within the health check timeout',
    'Check the VM, or raise the healthcheck `timeout`.',
    504,
  ),
  health_check_1001: no(
    'A health check driver threw instead of returning a verdict',
    'Report this as a bug of the health check driver.',
    500,
  ),
  dummy_check_0001: backoff(
    'Simulated health check failed',
    'None needed: injected by DummyHealthcheck.',
    503,
  ),

  // reconcile
  reconcile_backoff_0001: backoff(
    'Creation of VMs is paused for this preset after failed creates',
    'Read the code of the failed creates in the events; creation resumes by itself when the window ends.',
  ),
  reconcile_rollout_0001: no(
    'Rollout paused: a VM built from the new spec failed its health checks or did not boot',
    'Fix the new image, flavor or userdata (a new spec starts a new rollout), or resume the rollout by hand.',
    409,
  ),
  reconcile_update_1001: no(
    'In-place update is not possible: the IaaS driver cannot rebuild or resize; the VM is replaced instead',
    'Use update.strategy: replace, or a driver with rebuild/resize.',
    501,
  ),
  reconcile_manage_1001: no(
    'Managing a preset failed with an unexpected error',
    'Read the cause in the log line; report it as a bug if it persists.',
    500,
  ),
  reconcile_guard_0001: no(
    'Mass-deletion guard: too many VMs fail their health checks at once; no VM is terminated for health',
    'Find what makes the checks fail (network, the check itself, the service). Raise `max_unhealthy` only if this is expected.',
    409,
  ),
  reconcile_create_0001: backoff(
    'Some VMs could not be created',
    'Read the cause code; creation is retried on the next manage.',
    502,
  ),
  reconcile_terminate_0001: backoff(
    'Some VMs could not be terminated',
    'Read the cause code; termination is retried on the next manage.',
    502,
  ),
  reconcile_boot_0001: no(
    'A VM stayed pending longer than boot_timeout and is replaced',
    'Check the image and the cloud; raise `boot_timeout` if boots are slow.',
    504,
  ),

  // VM verbs (quiesce, restart, scrub, restore, update)
  vm_verb_0001: no(
    'The VM is not in a state this verb applies to',
    'See the VM lifecycle in the API or panel; e.g. restore applies only to a scrubbing VM.',
    409,
  ),
  vm_verb_0002: no(
    'No VM with this id in the preset',
    'Check the VM id: verbs apply only to VMs of the named preset.',
    404,
  ),
  vm_verb_2001: backoff(
    'The verb could not take the preset lease in time',
    'Retry; another instance or a long manage held the preset.',
    503,
  ),

  // command line
  cli_args_1001: no('Invalid command line', 'See `vmshepherd --help`.'),
  cli_preset_1001: no('No preset with this name', 'List presets with `vmshepherd check -c FILE`.', 404),
} as const satisfies Record<string, CodeSpec>;

export type ErrorCode = keyof typeof CODES;

export type ErrorClass = 'api' | 'internal' | 'primitive';

/** The class is the first digit of the number: 0 api, 1 internal, 2 primitive. */
export function errorClass(code: string): ErrorClass {
  const digit = code.slice(code.lastIndexOf('_') + 1)[0];
  if (digit === '0') return 'api';
  if (digit === '2') return 'primitive';
  return 'internal';
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(CODES, code);
}
