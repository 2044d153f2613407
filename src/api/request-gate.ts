import { Fifo } from '../util/fifo.js';

export interface RequestGateOptions {
  /** Requests per second let through while the loop is busy; 0: no limit. Asked per request (reloads). */
  rate: () => number;
  /** True while a manage cycle runs (asked once per request: must be cheap). */
  busy: () => boolean;
  /** Milliseconds, monotonic (tests substitute their own). */
  now?: () => number;
}

/** After an idle spell, this many milliseconds' worth of requests pass at once before pacing starts. */
const BURST_MS = 20;
/** Requests that would wait longer than this are refused instead (503 with Retry-After). */
const MAX_WAIT_MS = 2000;

/**
 * Paces HTTP requests while a manage cycle runs: at most `rate` a second pass, in arrival order; the rest
 * wait their turn, and past two seconds' worth of waiting ones a request is refused. Between cycles every
 * request passes at once. Why: the API, the panel and the loop share one JavaScript thread, and fifty
 * clients polling as fast as they are answered took 40 % of it from the cycle (docs/performance.md). A client
 * that waits for its answer before asking again (every browser, script and poller) sees its answers slow
 * down during a cycle instead; the cycle keeps its pace.
 */
export class RequestGate {
  private readonly waiting = new Fifo<() => void>();
  /** When the next request may pass while busy (ms, on `now`'s scale). */
  private nextAt = Number.NEGATIVE_INFINITY;
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;

  constructor(private readonly o: RequestGateOptions) {
    this.now = o.now ?? (() => performance.now());
  }

  /** Requests waiting for their turn. */
  get waitingCount(): number {
    return this.waiting.size;
  }

  /**
   * Calls `pass` when the request may be served (at once, or later in arrival order). Returns false,
   * without calling it, when too many requests already wait: the caller answers 503.
   */
  enter(pass: () => void): boolean {
    if (this.waitingCount === 0 && this.take()) {
      pass();
      return true;
    }
    if (this.waitingCount >= Math.max(100, (this.o.rate() * MAX_WAIT_MS) / 1000)) return false;
    this.waiting.push(pass);
    this.arm();
    return true;
  }

  /** Takes a turn if one is free now. */
  private take(): boolean {
    const rate = this.o.rate();
    if (rate <= 0 || !this.o.busy()) return true;
    const now = this.now();
    // Turns not used while idle are not saved up beyond a short burst.
    if (this.nextAt < now - BURST_MS) this.nextAt = now - BURST_MS;
    if (this.nextAt > now) return false;
    this.nextAt += 1000 / rate;
    return true;
  }

  private arm(): void {
    if (this.timer) return;
    const delay = Math.max(1, Math.ceil(this.nextAt - this.now()));
    this.timer = setTimeout(this.release, delay);
    // Waiting requests hold their sockets open anyway; the timer alone must not keep a process alive.
    this.timer.unref();
  }

  private readonly release = (): void => {
    this.timer = undefined;
    while (this.waitingCount > 0 && this.take()) {
      this.waiting.shift()?.();
    }
    if (this.waitingCount > 0) this.arm();
  };
}
