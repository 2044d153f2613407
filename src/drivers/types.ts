/**
 * The four driver interfaces (iaas, presets, runtime, healthcheck) and the task store, one file each under
 * types/. Each is small on purpose (the original's were 1-4 methods): the reconcile loop depends only on
 * these, never on a concrete driver. Importers take them from here.
 */
export * from './types/call-options.js';
export * from './types/definition.js';
export * from './types/healthcheck.js';
export * from './types/iaas.js';
export * from './types/lease.js';
export * from './types/locks.js';
export * from './types/presets.js';
export * from './types/runtime.js';
export * from './types/tasks.js';
export * from './types/vm.js';
export * from './types/vm-spec.js';
