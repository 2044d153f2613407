/** A preset lease and a store's own promise about it; every write of a preset's state carries it. */

export interface Lease {
  key: string;
  owner: string;
  /** Strictly increasing per key: a save carrying a lower token than the store's is refused. */
  token: number;
  /** Epoch ms (store clock). */
  expiresAt: number;
  /** True when this lease was taken over from a holder whose lease expired without being released. */
  takenOver: boolean;
}

/** A store's own promise about the leases it gives now (see `RuntimeStore.leaseGuard`). */
export interface LeaseGuard {
  readonly signal: AbortSignal;
  valid(): boolean;
}
