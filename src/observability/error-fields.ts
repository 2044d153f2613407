import type { ShepherdError } from '../errors/shepherd-error.js';

/**
 * Log fields of an error: the code and message always; the stack only for internal (1xxx) errors,
 * where it helps. An injected or remote failure needs no stack trace on every line.
 */
export function errorFields(error: ShepherdError): Record<string, unknown> {
  return error.class === 'internal'
    ? { code: error.code, err: error }
    : { code: error.code, error: error.message };
}
