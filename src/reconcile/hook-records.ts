// The lifecycle hooks' records kept in a preset's runtime state (hooks.ts decides them).

export type HookResult = 'continue' | 'abandon';

/** One VM waiting for its before_terminate hook, kept in the preset's runtime state (survives a restart). */
export interface HookWait {
  /** The notice's id (the receiver may deduplicate retries by it). */
  id: string;
  /** Why the VM is to be terminated (the plan's class and reason), as the notice says. */
  class: string;
  reason: string;
  /** Epoch ms: since when it waits, and the deadline now (heartbeats move it, up to since + max_wait). */
  since: number;
  deadline: number;
  /** Deliveries tried; epoch ms the receiver took the notice (2xx), or when the next try is due. */
  attempts: number;
  delivered?: number;
  retryAt?: number;
  heartbeats?: number;
  /** The receiver's answer, once given (at once in the POST's response, or later through the API). */
  answer?: { result: HookResult; by: string; at: number };
}

/** An after_create notice of one VM: tries so far, and when it was settled (delivered or given up). */
export interface AfterCreateNote {
  attempts: number;
  at?: number;
  retryAt?: number;
}
