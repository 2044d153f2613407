/**
 * The public API of the `vmshepherd` package: what a driver plugin is written against. Everything else
 * under dist/ is internal and may change in any release; what is exported here follows semantic versioning
 * (CHANGELOG.md). The contract test suites are a separate entry, `vmshepherd/testing`, because they import
 * vitest, which the daemon itself never loads.
 */

export {
  type CallOptions,
  type CreateOptions,
  DRIVER_KINDS,
  type DriverContext,
  type DriverDefinition,
  type DriverInstance,
  type DriverKind,
  defineDriver,
  type HealthCheck,
  type HealthResult,
  IAAS_CAPABILITIES,
  type IaasCapabilities,
  type IaasCapability,
  type IaasDriver,
  type Lease,
  type LeaseGuard,
  META_IDEMPOTENCY,
  META_PARTS,
  META_PRESET,
  META_REVISION,
  META_SPEC,
  META_TIMED_SHUTDOWN,
  type NetworkSpec,
  type OptionIssue,
  type OptionsResult,
  type PresetSource,
  type PresetSourceSet,
  type PresetStore,
  type RuntimeStore,
  SPEC_FIELDS,
  SPEC_VERBS,
  type SpecField,
  type Verdict,
  type Vm,
  type VmSpec,
  type VmState,
} from './drivers/types.js';
export {
  CODES,
  type CodeSpec,
  type ErrorClass,
  type ErrorCode,
  errorClass,
  isErrorCode,
} from './errors/codes.js';
export { definePluginCodes, type PluginCodeSpec, type PluginCodes } from './errors/define-plugin-codes.js';
export {
  asShepherdError,
  isShepherdError,
  ShepherdError,
  type ShepherdErrorOptions,
  type SourcePosition,
} from './errors/shepherd-error.js';
export type { Clock } from './util/clock.js';
export {
  HOOK_SIGNATURE_HEADER,
  HOOK_TOLERANCE_SEC,
  type HookVerification,
  signHookBody,
  verifyHookSignature,
} from './util/hook-signature.js';
export { VERSION } from './version.js';
