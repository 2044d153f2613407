/** The health check contract: a verdict on one VM. */
import type { CallOptions } from './call-options.js';
import type { Vm } from './vm.js';

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
