import type { Logger } from 'pino';
import { isActiveTask, type TaskFilter, type Vm } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';
import type { Metrics } from '../observability/metrics.js';
import { activeTraceContext } from '../observability/task-tracing.js';
import type { Preset } from '../presets/preset.js';
import type { HookAnswer } from '../reconcile/hooks.js';
import { type PresetPreview, previewPreset } from '../reconcile/preview.js';
import { checkVerb, checkVmKnown } from '../reconcile/run-verb.js';
import { type PresetState, parseState } from '../reconcile/state.js';
import { PRESET_ACTIONS, type TaskAction } from '../reconcile/task-steps.js';
import type { VerbName } from '../reconcile/verbs.js';
import { answerHook } from './answer-hook.js';
import type { DaemonParts } from './daemon-parts.js';
import type { HttpSettings, Operations } from './operations.js';
import type { OrphanReport } from './orphans.js';
import { newTask, type Task } from './tasks.js';

const presetActions: readonly string[] = PRESET_ACTIONS;

/**
 * What the API, the panel and the CLI may ask of the daemon (Operations), over the generation in force:
 * reads of presets, state, plan and orphans; tasks submitted, followed and cancelled.
 */
export class DaemonOperations implements Operations {
  readonly instanceId: string;
  readonly logger: Logger;
  readonly metrics: Metrics;

  constructor(
    private readonly parts: DaemonParts,
    /** True while a manage cycle runs. */
    readonly isCycling: () => boolean,
  ) {
    this.instanceId = parts.instanceId;
    this.logger = parts.logger;
    this.metrics = parts.metrics;
  }

  http(): HttpSettings {
    return this.parts.gen().config.http;
  }

  presets(): Preset[] {
    return this.parts.gen().catalog.presets();
  }

  preset(name: string): Preset | undefined {
    return this.parts.gen().catalog.get(name);
  }

  async probeRuntime(): Promise<void> {
    await this.parts.gen().runtime.load('__readyz__');
  }

  async cloudVm(preset: Preset, vmId: string): Promise<Vm | null> {
    return (await this.parts.gen().pool.account(preset)).get(vmId);
  }

  /**
   * VMs of presets that are no longer configured (their file was removed, or a valid commit dropped it),
   * seen through the cloud accounts. They are left alone: listed here for the API and panel only.
   */
  orphans(): Promise<OrphanReport> {
    const { pool } = this.parts.gen();
    return this.parts.orphanTracker.list(this.presets(), (preset) => pool.account(preset));
  }

  /** The preset's state as last saved by whichever instance managed it. */
  async presetState(name: string): Promise<PresetState> {
    return parseState(await this.parts.gen().runtime.load(name));
  }

  /** What the next manage of each preset (or of one) would do, touching nothing. */
  async plan(name?: string): Promise<PresetPreview[]> {
    const { deps } = this.parts.gen();
    const presets = name === undefined ? this.presets() : [this.presetNamed(name)];
    return Promise.all(presets.map(async (preset) => previewPreset(preset, await deps.preview(preset))));
  }

  /**
   * Records a verb on a VM of a preset as a queued task and returns it at once; whichever instance holds
   * (or next takes) the preset's lease runs it. An unknown preset or VM, an illegal transition or a verb
   * the cloud cannot do is refused here, before anything is stored. A key used before returns its task.
   */
  requestVerb(
    presetName: string,
    vmId: string,
    verb: VerbName,
    by: string,
    idempotencyKey?: string,
  ): Promise<Task> {
    return this.requestTask(presetName, verb, by, { vm: vmId, idempotencyKey });
  }

  /**
   * Records an operator's action as a queued task and returns it at once, like a verb: `manage` (now,
   * whatever the interval), `pause`, `resume` (every instance honours it), `terminate` (a VM of the preset;
   * the loop replaces it).
   */
  async requestTask(
    presetName: string,
    action: TaskAction,
    by: string,
    o: { vm?: string | undefined; idempotencyKey?: string | undefined } = {},
  ): Promise<Task> {
    const { runtime, pool, deps } = this.parts.gen();
    const store = deps.tasks;
    if (o.idempotencyKey !== undefined) {
      const existing = await store.getTaskByKey(o.idempotencyKey);
      if (existing) return existing;
    }
    const preset = this.presetNamed(presetName);
    const vm = o.vm;
    const onVm = action === 'terminate' || !presetActions.includes(action);
    if (action === 'terminate') await checkVmKnown(preset, vm ?? '', runtime);
    else if (vm !== undefined && onVm) {
      const cloud = await pool.account(preset);
      await checkVerb({ preset, vmId: vm, verb: action as VerbName, by }, { runtime, cloud });
    }
    const { task, created } = await store.submitTask(
      newTask(
        {
          preset: preset.name,
          verb: action,
          by,
          ...(onVm ? { vm } : {}),
          idempotencyKey: o.idempotencyKey,
          trace: activeTraceContext(),
        },
        this.parts.clock.now(),
      ),
    );
    if (created)
      this.parts.loggers.get(preset.name).info({ task: task.id, vm, verb: action, by }, 'task submitted');
    this.parts.markDue(preset.name);
    return task;
  }

  /** Waits until a task ended (polling the store), at most `timeoutMs`; returns it as it is then. */
  async taskEnded(id: string, timeoutMs: number): Promise<Task> {
    const until = performance.now() + timeoutMs;
    for (;;) {
      const task = await this.getTask(id);
      if (!isActiveTask(task) || performance.now() >= until) return task;
      await this.parts.clock.sleep(200);
    }
  }

  /** Tasks of every instance, newest first. */
  listTasks(filter: TaskFilter = {}): Promise<Task[]> {
    return this.parts.gen().deps.tasks.listTasks(filter);
  }

  async getTask(id: string): Promise<Task> {
    const task = await this.parts.gen().deps.tasks.getTask(id);
    if (!task) throw new ShepherdError('api_task_0001', id);
    return task;
  }

  /** Cancels a task that no instance took up yet. */
  cancelTask(id: string, by: string): Promise<Task> {
    return this.parts.gen().deps.tasks.cancelTask(id, by);
  }

  /** A receiver's answer to a VM's before_terminate hook (answer-hook.ts). */
  answerHook(presetName: string, vmId: string, answer: HookAnswer, by: string): Promise<Task> {
    const { catalog, runtime, deps } = this.parts.gen();
    return answerHook(
      {
        preset: (n) => catalog.get(n),
        runtime,
        tasks: deps.tasks,
        clock: this.parts.clock,
        markDue: (n) => this.parts.markDue(n),
      },
      presetName,
      vmId,
      answer,
      by,
    );
  }

  private presetNamed(name: string): Preset {
    const preset = this.preset(name);
    if (!preset) throw new ShepherdError('cli_preset_1001', name);
    return preset;
  }
}
