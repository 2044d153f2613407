import type { Logger } from 'pino';
import type { ShepherdConfig } from '../config/load-config.js';
import type { TaskFilter, Vm } from '../drivers/types.js';
import type { Metrics } from '../observability/metrics.js';
import type { Preset } from '../presets/preset.js';
import type { HookAnswer } from '../reconcile/hooks.js';
import type { PresetPreview } from '../reconcile/preview.js';
import type { PresetState } from '../reconcile/state.js';
import type { TaskAction } from '../reconcile/task-steps.js';
import type { VerbName } from '../reconcile/verbs.js';
import type { OrphanReport } from './orphans.js';
import type { Task } from './tasks.js';

/** The HTTP settings in force (a reload may change them). */
export type HttpSettings = ShepherdConfig['http'];

/**
 * What the API, the panel and the CLI may ask of a running vmshepherd: read its presets, state and plan,
 * submit and follow tasks. The daemon implements it; they depend on nothing else of it, so neither reaches
 * into its drivers, runtime store or catalog.
 */
export interface Operations {
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: Metrics;
  http(): HttpSettings;

  presets(): Preset[];
  preset(name: string): Preset | undefined;
  presetState(name: string): Promise<PresetState>;
  plan(name?: string): Promise<PresetPreview[]>;
  orphans(): Promise<OrphanReport>;
  /** True while a manage cycle runs (the API paces its requests meanwhile). */
  isCycling(): boolean;
  /** Throws unless the runtime store answers (readiness). */
  probeRuntime(): Promise<void>;
  /** A VM of the preset's cloud account as the cloud shows it now, or null. */
  cloudVm(preset: Preset, vmId: string): Promise<Vm | null>;

  requestTask(
    presetName: string,
    action: TaskAction,
    by: string,
    options?: { vm?: string | undefined; idempotencyKey?: string | undefined },
  ): Promise<Task>;
  requestVerb(
    presetName: string,
    vmId: string,
    verb: VerbName,
    by: string,
    idempotencyKey?: string,
  ): Promise<Task>;
  taskEnded(id: string, timeoutMs: number): Promise<Task>;
  listTasks(filter?: TaskFilter): Promise<Task[]>;
  getTask(id: string): Promise<Task>;
  cancelTask(id: string, by: string): Promise<Task>;
  /** A receiver's answer to a VM's before_terminate hook, queued as a task (docs/hooks.md). */
  answerHook(presetName: string, vmId: string, answer: HookAnswer, by: string): Promise<Task>;
}
