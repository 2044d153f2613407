import { CODES } from './codes.js';
import { formatPosition, ShepherdError, type ShepherdErrorOptions } from './shepherd-error.js';

/** What a plugin says about one of its own codes; how the daemon treats it follows from the code's class digit. */
export interface PluginCodeSpec {
  /** One line: what happened. */
  message: string;
  /** What an operator does about it. */
  fix: string;
  /** The cloud has no room: creation of the flavor pauses for a window instead of a short backoff. */
  limit?: 'quota' | 'capacity';
}

/** Builds the errors of one plugin's catalogue, typed by its codes. */
export interface PluginCodes<C extends string> {
  readonly codes: Readonly<Record<C, PluginCodeSpec>>;
  error(code: C, detail?: string, options?: ShepherdErrorOptions): ShepherdError;
}

// The catalogue's format, `<owner>_<verb>_NNNN`: the daemon reads the class from the first digit.
const CODE_FORMAT = /^[a-z][a-z0-9]*_[a-z][a-z0-9]*_[0-2]\d{3}$/;

/**
 * Declares a plugin's own error codes. Codes keep the catalogue's format so the daemon treats them by
 * their class digit (0xxx the remote API refused, 1xxx bad input or invariant: not retried, 2xxx the
 * primitive failed: retried with backoff) and may not reuse a built-in code, whose meaning is fixed.
 * The message is the catalogue line the built-in codes have, so logs and the API read the same.
 */
export function definePluginCodes<C extends string>(codes: Record<C, PluginCodeSpec>): PluginCodes<C> {
  for (const code of Object.keys(codes)) {
    if (!CODE_FORMAT.test(code))
      throw new TypeError(
        `plugin error code '${code}' is not <owner>_<verb>_NNNN with N a digit and the first 0-2`,
      );
    if (Object.hasOwn(CODES, code)) throw new TypeError(`plugin error code '${code}' is a built-in code`);
  }
  return {
    codes,
    error(code, detail, options = {}) {
      const spec: PluginCodeSpec = codes[code];
      // The fix goes along in the details (logs, API answers): the built-in codes' fix comes from CODES,
      // which knows nothing of a plugin's.
      const details = {
        ...(options.details ?? {}),
        fix: spec.fix,
        ...(spec.limit ? { limit: spec.limit } : {}),
      };
      const err = new ShepherdError(code, detail, { ...options, details });
      // Without this the message would start with the bare code (ShepherdError knows only the built-in texts).
      const where = options.at ? `${formatPosition(options.at)}: ` : '';
      err.message = `${where}${detail ? `${spec.message}: ${detail}` : spec.message} [${code}]`;
      return err;
    },
  };
}
