import PQueue from 'p-queue';
import { ShepherdError } from '../errors/shepherd-error.js';

/** Cloud calls the API may have in flight at once: it shares each account's limiter with the loop. */
export const API_CLOUD_CONCURRENCY = 4;
/** Cloud calls the API may start per second. */
export const API_CLOUD_PER_SECOND = 50;
/** Calls that may wait their turn; past this a look-up is refused instead of queued behind the loop. */
export const API_CLOUD_WAITING = 200;

/**
 * The API's own small share of the cloud: a JSON-RPC look-up the loop's snapshot cannot answer goes
 * through here, so callers can never take the account's limiter from a manage cycle (a burst of
 * get_vm_ip once stretched a cycle many times over; docs/performance.md).
 */
export class CloudBudget {
  private readonly queue = new PQueue({
    concurrency: API_CLOUD_CONCURRENCY,
    intervalCap: API_CLOUD_PER_SECOND,
    interval: 1000,
  });

  run<T>(call: () => Promise<T>): Promise<T> {
    if (this.queue.size >= API_CLOUD_WAITING)
      return Promise.reject(new ShepherdError('api_rpc_2001', `${this.queue.size} cloud look-ups waiting`));
    return this.queue.add(call) as Promise<T>;
  }
}
