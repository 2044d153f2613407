import type { IaasCapability } from '../drivers/types.js';
import { ShepherdError } from '../errors/shepherd-error.js';

/** Where a VM stands in its operator-driven lifecycle. `active` is the default and is not stored. */
/** `terminating`: an operator's terminate handed to the loop, which runs the before_terminate hook first. */
export type Lifecycle = 'active' | 'quiesced' | 'scrubbing' | 'quarantined' | 'terminating';

export type VerbName = 'quiesce' | 'restart' | 'scrub' | 'restore' | 'update';
export const VERB_NAMES: readonly VerbName[] = ['quiesce', 'restart', 'scrub', 'restore', 'update'];

/** One legal transition: from a lifecycle, the cloud operation it takes (if any) and where it leads. */
interface Transition {
  from: Lifecycle;
  /** Cloud verb; `spec` ones get the preset's current spec (rebuild/resize to it). */
  op: IaasCapability | 'update' | null;
  to: Lifecycle;
}

/**
 * The verbs as data. quiesce stops a VM and keeps it (it still counts towards `count`); restart reboots a
 * running VM or starts a quiesced one; scrub stops a VM and deletes it after `scrub_grace` unless restored
 * (a scrubbing VM no longer counts: its replacement starts); update brings a VM to the current spec in place.
 */
export const VERBS: Readonly<Record<VerbName, readonly Transition[]>> = {
  quiesce: [{ from: 'active', op: 'stop', to: 'quiesced' }],
  restart: [
    { from: 'active', op: 'reboot', to: 'active' },
    { from: 'quiesced', op: 'start', to: 'active' },
  ],
  scrub: [
    { from: 'active', op: 'stop', to: 'scrubbing' },
    { from: 'quiesced', op: null, to: 'scrubbing' },
  ],
  restore: [{ from: 'scrubbing', op: 'start', to: 'active' }],
  update: [
    { from: 'active', op: 'update', to: 'active' },
    { from: 'quiesced', op: 'update', to: 'quiesced' },
  ],
};

/** The operator's record of a VM, kept in the preset's runtime state while it is not `active`. */
export interface VmLifecycle {
  state: Exclude<Lifecycle, 'active'>;
  /** Epoch ms of the transition, and who asked. */
  since: number;
  by: string;
  /** Scrubbing, quarantined: epoch ms after which the VM is deleted. */
  deleteAt?: number;
  /** Quarantined: the failing check that put it there (quarantine.ts; no verb leads in or out). */
  reason?: string;
}

export interface VerbDecision {
  transition: Transition;
  /** The cloud verb to call, or null; `update` is worked out field by field when it runs (in-place.ts). */
  op: IaasCapability | 'update' | null;
}

/**
 * Checks a verb request against the VM's lifecycle and the cloud's capabilities, before anything is queued:
 * an illegal transition is `vm_verb_0001`, a verb the driver cannot do is `iaas_verb_1001` (an update
 * needs at least a way to record the spec on the VM).
 */
export function decideVerb(
  verb: VerbName,
  current: Lifecycle,
  capabilities: ReadonlySet<IaasCapability>,
): VerbDecision {
  const transition = VERBS[verb].find((t) => t.from === current);
  if (!transition) {
    const allowed = VERBS[verb].map((t) => t.from).join(' or ');
    throw new ShepherdError('vm_verb_0001', `${verb} of a VM that is ${current} (allowed from ${allowed})`, {
      details: { verb, lifecycle: current },
    });
  }
  const needs = transition.op === 'update' ? 'setMetadata' : transition.op;
  if (needs && !capabilities.has(needs)) {
    throw new ShepherdError(
      'iaas_verb_1001',
      `${verb} needs ${needs}, which this cloud's driver does not offer`,
      {
        details: { verb, op: needs },
      },
    );
  }
  return { transition, op: transition.op };
}

/** The lifecycle record after a verb (undefined: back to `active`, nothing stored). */
export function lifecycleAfter(
  d: VerbDecision,
  now: number,
  by: string,
  scrubGraceMs: number,
): VmLifecycle | undefined {
  const to = d.transition.to;
  if (to === 'active') return undefined;
  return { state: to, since: now, by, ...(to === 'scrubbing' ? { deleteAt: now + scrubGraceMs } : {}) };
}
