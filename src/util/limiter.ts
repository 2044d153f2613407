import { Fifo } from './fifo.js';

/** The part of a queue that the health checks use: run a task once a slot is free. PQueue has it too. */
export interface TaskLimiter {
  add<T>(task: () => Promise<T>): Promise<T>;
}

/**
 * Runs at most `concurrency` tasks at once, in arrival order. The daemon-wide limit of health checks uses
 * this instead of PQueue: every running VM is checked every cycle (100,000 checks a cycle at 10,000
 * presets), and PQueue allocates several promises, closures and events per task, which a lean counter
 * with a waiting list does not.
 */
export class Limiter implements TaskLimiter {
  private active = 0;
  private readonly waiting = new Fifo<() => void>();

  constructor(private readonly concurrency: number) {}

  add<T>(task: () => Promise<T>): Promise<T> {
    if (this.active < this.concurrency) {
      this.active++;
      return this.start(task);
    }
    return new Promise<void>((resolve) => this.waiting.push(resolve)).then(() => this.start(task));
  }

  /** Plain promise reactions, not an async function: one promise per task rather than a suspended frame. */
  private start<T>(task: () => Promise<T>): Promise<T> {
    let running: Promise<T>;
    try {
      running = Promise.resolve(task());
    } catch (err) {
      this.handOver();
      return Promise.reject(err);
    }
    return running.then(this.passValue, this.passError) as Promise<T>;
  }

  private readonly passValue = <T>(value: T): T => {
    this.handOver();
    return value;
  };

  private readonly passError = (err: unknown): never => {
    this.handOver();
    throw err;
  };

  /** Tasks running and waiting. */
  get size(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.size };
  }

  /** The freed slot goes to the first waiting task (the running count stays), else it is released. */
  private handOver(): void {
    const next = this.waiting.shift();
    if (next === undefined) this.active--;
    else next();
  }
}
