import { isShepherdError, ShepherdError } from '../../../errors/shepherd-error.js';

/** Every failure that is not an answer becomes `zookeeper_call_2001` (retried with backoff). */
export async function zkWrap<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isShepherdError(err)) throw err;
    throw new ShepherdError('zookeeper_call_2001', `${what}: ${(err as Error).message ?? String(err)}`, {
      cause: err,
    });
  }
}
