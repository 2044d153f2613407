/**
 * The error catalogue: every error that leaves a driver or a core module carries one of these codes.
 * Code format `<owner>_<verb>_NNNN`; the first digit is the class (see docs/errors.md):
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
  /**
   * `warning`: reported, and what it is about is still used (a key ignored, a value converted); an error
   * only under `check --strict` or `strict: true`.
   */
  readonly severity?: 'warning';
}

const no = (message: string, fix: string, http = 400): CodeSpec => ({ message, fix, retry: 'no', http });
const backoff = (message: string, fix: string, http = 503): CodeSpec => ({
  message,
  fix,
  retry: 'backoff',
  http,
});
/** Something the original accepted and vmshepherd accepts too, reported so it can be fixed. */
const warning = (message: string, fix: string): CodeSpec => ({
  message,
  fix,
  retry: 'no',
  http: 400,
  severity: 'warning',
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
  config_load_1005: warning(
    'A configuration key vmshepherd does not read, ignored as the original ignored it',
    'Remove it, or rename it when the message suggests a known key.',
  ),
  config_load_1006: warning(
    'A key is given twice in one mapping: the last one wins, as PyYAML read it',
    'Keep one of the two.',
  ),
  config_load_1007: warning(
    'A value of another type than expected was converted the way the original (Python) used it',
    'Write the value as the message shows it was taken (e.g. quote a number used as a name).',
  ),
  config_load_1008: no(
    'The HTTP server would listen beyond loopback with no token: every read open to the network',
    'Add `http.tokens` (a read token for dashboards, an operate token for actions), or bind `http.host: 127.0.0.1`, or set `http.open_reads: true` to open reads to the network on purpose.',
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
  preset_load_1006: warning(
    'Unknown top-level preset key, kept as a template variable, looks like a misspelled key',
    'Rename it if it is a typo; keys the schema does not know are template variables, as in the original.',
  ),
  preset_load_1007: no('flavor and flavour are both set, to different values', 'Keep one of them.'),
  preset_load_1008: warning(
    'A key is given twice in one mapping of a preset file: the last one wins, as PyYAML read it',
    'Keep one of the two.',
  ),
  preset_load_1009: warning(
    'A preset value of another type than expected was converted the way the original (Python) used it',
    'Write the value as the message shows it was taken (e.g. quote a number used as a name).',
  ),
  preset_load_1010: no(
    'The preset store cannot be read: the presets it last gave are still managed',
    'Restore the directory (or the repository access) named in the preset_load_2001 next to this; until then nothing is added, changed or removed.',
    503,
  ),
  preset_load_1011: no(
    'A reload would leave no preset managed: refused, the running configuration is kept',
    'Check `presets` in the configuration (a path that does not exist, a wrong repository) and the problems logged with it; to stop managing every preset on purpose, remove the preset files, not the store.',
    409,
  ),
  preset_load_1012: no(
    "A preset sends the main configuration's cloud credentials to an endpoint of its own: refused",
    'Credentials from the main configuration only go where it points. Give the preset all of its own credentials with its endpoint (e.g. `auth_url`, `username`, `password`, `project_name`), inheriting no secret from `defaults` and no `cloud:` (clouds.yaml) or OS_* environment, or, if every preset author is trusted with them, set `presets_may_set_endpoints: true` in the main configuration.',
  ),
  preset_load_1013: no(
    'A preset file is larger than vmshepherd reads (256 KiB): not parsed',
    'Split it, or move a large userdata to a `file://` template next to it (the cloud takes 64 KiB of userdata at most).',
    413,
  ),
  preset_load_1014: no(
    'A preset file is a symbolic link to a file outside the preset directory: not read',
    "Copy the file into the preset directory, or link to a file inside it (a mounted ConfigMap's `..data/` links are inside).",
    400,
  ),
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
  preset_render_1010: no(
    'The userdata template took more evaluation steps than allowed (a loop too long for userdata)',
    'Make the template do less work: userdata is at most 64 KiB, so a loop over millions of items is a mistake.',
  ),
  preset_render_1011: no(
    'The rendered userdata (or a string built on the way) is larger than the output limit (64 KiB)',
    'Shorten the template or its data: Nova refuses userdata above 64 KiB base64 (49152 bytes of text).',
  ),
  preset_render_1012: no(
    'The userdata template made a range or list of more than 100000 items (Jinja2 sandbox MAX_RANGE)',
    'Use a smaller range(); Jinja2 refuses the same template with OverflowError.',
  ),
  preset_render_1013: no(
    'The userdata template nests macros, recursive loops or expressions more than 100 levels deep',
    'Flatten the template: a macro that calls itself needs a condition that stops it.',
  ),
  preset_render_1014: no(
    'A file:// userdata template is larger than vmshepherd reads (256 KiB): not read',
    'Shorten the template: the rendered userdata is at most 64 KiB (Nova refuses more), so a larger template is a mistake or data that belongs elsewhere.',
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
  driver_options_1002: warning(
    'An option the selected driver does not read, ignored as the original ignored it',
    'Remove it, or move it to the block of the driver the message names as reading it.',
  ),
  driver_options_1003: warning(
    'A driver option of another type than expected was converted the way the original (Python) used it',
    'Write the value as the message shows it was taken.',
  ),

  // the simulated cloud
  dummy_create_0001: quota(
    'Simulated cloud: instance quota exceeded',
    'Raise `quota.instances` of DummyIaasDriver or lower `count`.',
  ),
  dummy_create_0002: capacity(
    'Simulated cloud: no capacity left for this flavor or availability zone',
    'Raise `capacity.<flavor>` or `zone_capacity.<zone>` of DummyIaasDriver, or list another flavor or zone in the preset.',
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
    'Simulated cloud: the simulator (`vmshepherd simulator`) at `endpoint` is unreachable, refused the call, or its answer was cut short',
    'Start the simulator, or check `endpoint` and `token`.',
    502,
  ),
  dummy_state_2001: no(
    'Simulated cloud: the state file cannot be read or written',
    'Check `state_file` and its directory permissions.',
    500,
  ),
  dummy_op_0001: no('Simulated cloud: no VM with this id', 'The VM is gone; nothing to do.', 404),
  dummy_op_2001: backoff(
    'Simulated cloud: a rebuild or resize did not end with the VM settled on the change (ERROR, another flavor, or no end in time)',
    'None needed: the VM is outdated still and its next update or replacement follows; see its fault.',
    502,
  ),
  dummy_op_0002: no(
    'Simulated cloud: the VM is not in a state that allows this operation',
    'Wait for the VM to reach a stable state.',
    409,
  ),
  dummy_create_0003: no(
    'Simulated cloud: unknown image, flavor or availability zone',
    'Use one of the `images`/`flavors`/`zones` listed in the DummyIaasDriver options.',
    400,
  ),

  // OpenStackDriver (docs/openstack.md)
  openstack_config_1001: no(
    'OpenStack credentials are incomplete, or the clouds.yaml entry cannot be found',
    'Set the missing option in the iaas block, in clouds.yaml (`cloud:`) or as OS_* environment variable.',
    500,
  ),
  openstack_auth_0001: no(
    'Keystone refused the credentials',
    'Check username/password/project (or the application credential) and that the user has a role in the project.',
    502,
  ),
  openstack_catalog_1001: no(
    'The service is not in the Keystone catalog for this region and interface',
    'Check `region_name` and `interface`; the user needs a project-scoped token whose catalog lists compute, image and network.',
    500,
  ),
  openstack_resolve_0001: no(
    'The image, flavor or network named in the preset does not exist in this project',
    'Use a name or id that `openstack image list`, `flavor list` or `network list` shows for this project.',
    400,
  ),
  openstack_resolve_0002: no(
    'The name matches several networks or flavors',
    'Use the id instead of the name.',
    400,
  ),
  openstack_create_0001: quota(
    'OpenStack: quota exceeded',
    'Raise the project quota (instances, cores, RAM, ports) or lower `count`; creation of this flavor resumes after a window.',
  ),
  openstack_create_0002: capacity(
    'OpenStack: no valid host was found for this flavor (no capacity)',
    'Add compute capacity or use another flavor or availability zone; creation of this flavor resumes after a window.',
  ),
  openstack_call_0001: backoff(
    'OpenStack: rate limited (429)',
    'None needed: the call is retried after Retry-After; lower `limits.calls_per_second` if frequent.',
    429,
  ),
  openstack_call_0002: no(
    'OpenStack: the request conflicts with the state of the server (409)',
    'Wait until the server has finished its current task.',
    409,
  ),
  openstack_call_0003: no('OpenStack: not found (404)', 'The resource is gone; nothing to do.', 404),
  openstack_call_0004: no(
    'OpenStack refused the request as invalid',
    'Read the message from OpenStack; usually a preset value (image, flavor, key_name, network) the cloud rejects.',
    400,
  ),
  openstack_call_0005: no(
    'OpenStack: forbidden by policy (403)',
    'Give the user the role the call needs (see docs/openstack.md, permissions).',
    403,
  ),
  openstack_compute_0001: no(
    'OpenStack: the cloud does not implement this operation (501, or an API microversion it does not offer)',
    'Nothing to retry: the cloud lacks the capability (its virt driver or its Nova release). Use a verb or option the cloud offers, or upgrade the cloud.',
    501,
  ),
  openstack_compute_0002: no(
    'OpenStack: the server (instance) was not found',
    'None: the server is gone (deleted by someone else, or never built); the next listing drops it and the loop replaces it if needed.',
    404,
  ),
  openstack_compute_0003: backoff(
    'OpenStack: the server is in the wrong state for this action (409: its vm_state or task forbids it, e.g. start of an ACTIVE server)',
    'None needed: the action is retried with backoff once the server has settled; if it stays, check the server (`openstack server show`) and its events.',
    409,
  ),
  openstack_group_0001: no(
    "OpenStack: the preset's server group exists with another policy (Nova cannot change a group's policy)",
    'Delete the server group (`openstack server group delete`) once its servers are gone, or go back to its policy; servers of the preset are not created until then.',
    409,
  ),
  openstack_tls_0001: no(
    "OpenStack: the API's TLS certificate is not trusted (or is not for this host, or has expired)",
    'Set `cacert` (or OS_CACERT, `cacert` in clouds.yaml) to the PEM bundle of the CA that signed it; `insecure: true` skips the check (a lab only).',
    502,
  ),
  openstack_call_2001: backoff(
    'OpenStack API unreachable (connection failed)',
    'Check the endpoint, DNS and TLS settings (`cacert`); calls are retried.',
    502,
  ),
  openstack_call_2002: backoff(
    'OpenStack API call timed out',
    'Check the API, or raise `http_timeout`; a create that timed out is looked up by its idempotency key, never repeated blindly.',
    504,
  ),
  openstack_call_2003: backoff(
    'OpenStack API failed with a server error (5xx)',
    'Check the OpenStack service logs; calls are retried.',
    502,
  ),
  openstack_list_2001: backoff(
    'OpenStack: a server listing could not be taken whole while servers were being scheduled',
    'None needed: the listing is taken again on the next cycle. It happens when more than a page of servers wait for a cell at once.',
    503,
  ),
  openstack_answer_2001: backoff(
    'OpenStack answered a call with a body vmshepherd cannot read (not JSON, or a listing without its list): the call failed, nothing was read as empty',
    'Check what answers at the endpoint (a proxy or load balancer answering with its own page?); the manage is retried, and creates nothing until a listing is read.',
    502,
  ),
  openstack_answer_2002: backoff(
    'An OpenStack answer is larger than vmshepherd reads (32 MiB), or a listing goes on for more than 1000 pages',
    'Check the endpoint (an answer that never ends, a `next` link that loops); with more than 1000 pages of servers, raise `page_size`.',
    502,
  ),
  openstack_boot_2001: backoff(
    'OpenStack: the server went to ERROR (its fault message is kept on the VM)',
    'Read the fault in the panel or API; the server is replaced.',
    502,
  ),
  openstack_resize_2001: backoff(
    'OpenStack: a resize did not happen (Nova gave it up, or it did not reach VERIFY_RESIZE in time)',
    'Check the server events (no host to resize to?); raise `resize_timeout` for slow resizes.',
    504,
  ),
  openstack_update_2001: backoff(
    'OpenStack: an in-place change did not show on the server (a rebuild did not end ACTIVE on its image in time, or its security groups differ after adding and removing)',
    'Check the server events; raise `resize_timeout` for slow rebuilds. The VM stays outdated and is updated again.',
    504,
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
  runtime_task_0001: no(
    'Task not written: the preset lease was lost or the task changed meanwhile (cancelled)',
    'None needed: the instance that holds the preset lease now carries the task on.',
    409,
  ),
  runtime_task_1001: no(
    'A task was taken up too many times without finishing',
    'Look at the logs of the instances that ran it (its steps name them) and submit the verb again.',
    500,
  ),
  runtime_lease_0001: no(
    'The preset lease was lost while managing',
    'None needed: the manage stops and another instance takes over; check runtime store latency if frequent.',
    409,
  ),
  runtime_lock_0001: no(
    'Lock slot not taken: the preset lease it was asked under is no longer current (stale fencing token)',
    'None needed: the manage stops and the instance that holds the preset lease now acts.',
    409,
  ),
  runtime_lock_1001: no(
    '`limits:` are set but the runtime store keeps no infrastructure locks',
    'Use InMemoryDriver, PostgresDriver or ZookeeperDriver, or a plugin store that offers `locks`, or remove `limits:`.',
    500,
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
  zookeeper_client_2001: backoff(
    'The ZooKeeper client could not read a reply (corrupt or stale bytes): its session was dropped and a new one started, losing its leases',
    'Nothing to do if rare; if it repeats, check what sits on the network path to ZooKeeper (proxies, load balancers).',
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
  reconcile_hook_0001: backoff(
    'A hook notice was not delivered: the receiver did not answer 2xx, could not be reached, or the secret variable is unset',
    'Check the hook url, the receiver, and that the VMSHEPHERD_HOOK_ variable is set for the daemon; deliveries are retried until the wait times out.',
  ),
  reconcile_hook_0002: no(
    'A before_terminate hook was not answered in time: its default_result applied and the VM was terminated',
    'Answer sooner (POST …/vms/{id}/hook), send heartbeats while working, or raise hooks.before_terminate.timeout.',
    409,
  ),
  reconcile_update_1001: no(
    'In-place update is not possible for this VM: a field that differs cannot change in place (zone, networks on OpenStack), cannot be compared, or the driver lacks the verb; a rollout replaces it instead',
    'Let the rollout replace the VM (update.strategy in_place does so under max_surge/max_unavailable), or use a driver with the verb.',
    501,
  ),
  reconcile_manage_1001: no(
    'Managing a preset failed with an unexpected error',
    'Read the cause in the log line; report it as a bug if it persists.',
    500,
  ),
  reconcile_guard_0001: no(
    "Mass-deletion guard: more of the preset's VMs fail their health checks than `max_unhealthy` allows; they are replaced one at a time",
    'Find what makes the checks fail (network, the check itself, the service). Raise `max_unhealthy` only if this is expected.',
    409,
  ),
  reconcile_guard_0002: no(
    'Fleet-wide guard: more than `manage.max_unhealthy_fleet` of the VMs this instance checks fail at once; no VM is terminated for health anywhere',
    'Find the shared cause (network, the checks, a dependency of every service). Raise `max_unhealthy_fleet` only if this is expected.',
    409,
  ),
  reconcile_demand_0001: backoff(
    'The demand query of a count that follows demand was refused or gave no single value; the count is held',
    'Run the query in Prometheus: it must return one sample (wrap it in sum()). Fix `count.target.prometheus.query`.',
  ),
  reconcile_demand_2001: backoff(
    'The Prometheus server of a count that follows demand could not be reached or did not answer in time; the count is held',
    'Check that Prometheus runs at `count.target.prometheus.url` and answers within `timeout`.',
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
  vm_verb_2002: no(
    'The VM did not reach the state its verb promised in time',
    'Look at the VM in the cloud (its fault); the task ends failed at its wait step, submit it again once fixed.',
    504,
  ),
  vm_verb_2001: backoff(
    'The verb could not take the preset lease in time',
    'Retry; another instance or a long manage held the preset.',
    503,
  ),
  vm_verb_2003: backoff(
    "The verb waits for the preset's disruption budget (update.max_unavailable)",
    'A rollout, remedies, scale-in or other verbs hold every VM max_unavailable allows out of service; the verb runs once one is back. When it waited too long it fails with this code: retry later, or raise update.max_unavailable.',
    503,
  ),

  // HTTP API, JSON-RPC and panel
  api_auth_0001: no(
    'A bearer token is required',
    'Send `Authorization: Bearer TOKEN` with a token of `http.tokens` (or open reads with `http.open_reads: true`).',
    401,
  ),
  api_auth_0002: no(
    'The token is not valid',
    'Use a token listed in `http.tokens` (compare its SHA-256 if the config keeps hashes).',
    401,
  ),
  api_auth_0003: no(
    'This action needs a token with the operate role',
    'Use a token whose `role` is `operate` in `http.tokens`.',
    403,
  ),
  api_auth_0004: no(
    'Actions are disabled: the configuration defines no API token',
    'Add `http.tokens: [{name: ops, role: operate, token: ${VMSHEPHERD_TOKEN}}]` to the configuration and send it as `Authorization: Bearer TOKEN`.',
    403,
  ),
  api_auth_0005: no(
    'A browser request from another site (or origin) may not use the panel session',
    'Act from the panel itself; a proxy in front must pass the `Host` header unchanged (and `X-Forwarded-Proto` for https) so the browser `Origin` matches it. Scripts send `Authorization: Bearer TOKEN` instead of the cookie.',
    403,
  ),
  api_request_0001: no(
    'The request is invalid',
    'Fix the parameter named in the message; the OpenAPI document at /api/v1/openapi.json lists them.',
    400,
  ),
  api_request_0002: no('No such route', 'See /api/v1/openapi.json for the routes.', 404),
  api_request_0003: no(
    'The request names a host this server does not answer for (Host header)',
    'Reach the API by localhost, an IP address or `http.host`; add the name a proxy or DNS gives it to `http.allowed_hosts`.',
    421,
  ),
  api_page_0001: no(
    'The page parameters of the list are invalid',
    '`limit` is a whole number from 1 to 1000 (default 100); `cursor` is the `next` value of the previous page, sent as given.',
    400,
  ),
  api_rpc_0001: no(
    'JSON-RPC method not found or not allowed',
    'Call one of the methods listed in `http.api.allowed_methods` (or the seven methods of the original).',
    404,
  ),
  api_rpc_0002: no(
    'The JSON-RPC batch holds too many calls',
    'Send at most 100 calls in one batch; split a longer list into several batches sent one after the other.',
    400,
  ),
  api_hook_0001: no(
    'No before_terminate hook waits for this VM (none was sent, or it was answered or timed out already)',
    'See the VM lifecycle (terminating:wait) in the API, the panel or `plan`; an answer is given once.',
    409,
  ),
  api_task_0001: no(
    'No task with this id',
    'Finished tasks are kept for `tasks.keep` (default 7 days); list them at /api/v1/tasks.',
    404,
  ),
  api_task_0002: no(
    'Only a queued task, or one waiting for room in the disruption budget, can be cancelled',
    'None: a step of the task runs or it ended already; its steps show how far it got.',
    409,
  ),
  api_ready_2001: backoff(
    'The runtime store did not answer the readiness probe in time',
    'Check the runtime store (PostgreSQL, ZooKeeper) and the network to it.',
  ),
  api_request_2001: backoff(
    'Too many requests are waiting while a manage cycle runs',
    'Retry after the `Retry-After` seconds. Clients that wait for each answer before asking again never see this; raise `http.rate_while_cycling` if the loop can spare the time.',
  ),
  api_request_2002: backoff(
    'Too many panel live streams are open',
    'Close panel tabs left open, or raise `http.max_streams`; the page itself still loads, only its live updates are refused.',
  ),
  api_rpc_2001: backoff(
    'Too many cloud look-ups from the API are waiting',
    'Retry later, and ask fewer at once: get_vm_ip answers from the last manage without the cloud; get_vm_metadata asks the cloud, at most 4 at a time and 50 a second.',
  ),
  api_server_1001: warning(
    'Reads are open to the network: the server listens beyond loopback and reads need no token',
    'Add a read token to `http.tokens` and drop `http.open_reads`, or bind `http.host: 127.0.0.1`, unless anyone who can reach this address may see every preset, VM and event.',
  ),
  api_server_2001: no(
    'The HTTP server cannot listen on the configured address',
    'Free the port, or change `http.listen_port`/`http.host` (port 0 picks a free one).',
    500,
  ),
  api_request_1001: no(
    'An API or JSON-RPC request failed with an unexpected error',
    'Read the cause in the log line; report it as a bug if it persists.',
    500,
  ),
  panel_page_1001: no(
    'A panel page or its live update failed with an unexpected error',
    'Read the cause in the page or the log line; report it as a bug if it persists.',
    500,
  ),

  // the daemon around the reconcile loop: drivers per preset, tasks, orphans
  daemon_run_1001: no(
    "The daemon failed with an unexpected error while creating a preset's drivers, listing or purging tasks, or looking for orphans",
    'Read the cause in the log line; report it as a bug if it persists.',
    500,
  ),

  // tracing
  observability_span_1001: no(
    'A traced operation failed with an error that has no catalogue code (the code of its span)',
    'Read the cause in the log line of the same operation; report it as a bug if it persists.',
    500,
  ),
  observability_export_2001: no(
    'The last spans could not be exported when the daemon stopped',
    'Check that the OTLP endpoint (`tracing.otlp_endpoint` or OTEL_EXPORTER_OTLP_ENDPOINT) is reachable.',
    500,
  ),

  // command line
  cli_api_2001: backoff(
    'The vmshepherd API cannot be reached',
    'Check --url (or VMSHEPHERD_URL) and that the daemon runs with an `http:` section.',
  ),
  cli_args_1001: no('Invalid command line', 'See `vmshepherd --help`.'),
  cli_preset_1001: no('No preset with this name', 'List presets with `vmshepherd check -c FILE`.', 404),
  cli_run_1001: no(
    'The command failed with an unexpected error (or the daemon it ran could not stop cleanly)',
    'Read the stack printed or logged with it; report it as a bug if it persists.',
    500,
  ),
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
