/**
 * `vmshepherd/testing`: the contract suites every built-in driver passes, for plugin authors to run
 * against their own drivers. They call vitest's describe/it/expect, so import this entry from a vitest
 * test file only (vitest is an optional peer dependency of the package; the main entry never loads it).
 */
export { type HealthcheckContractSubject, healthcheckContract, vmAt } from './healthcheck-contract.js';
export {
  type IaasContractOptions,
  type IaasContractSubject,
  iaasContract,
  specFor,
} from './iaas-contract.js';
export { dirWriter, type PresetStoreSubject, presetStoreContract } from './presets-contract.js';
export {
  type RuntimeContractOptions,
  type RuntimeContractSubject,
  runtimeContract,
} from './runtime-contract.js';
