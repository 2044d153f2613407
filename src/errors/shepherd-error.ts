import { CODES, type CodeSpec, type ErrorClass, type ErrorCode, errorClass, isErrorCode } from './codes.js';

/** Where in a source file an error points (1-based line and column). */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

export interface ShepherdErrorOptions {
  cause?: unknown;
  /** Structured facts for logs and the API (never secrets). */
  details?: Record<string, unknown>;
  at?: SourcePosition;
  /** Suggested retry delay in ms, e.g. from a Retry-After header. */
  retryAfterMs?: number;
  /** Overrides the catalogue's severity: `error` is how `--strict` reports a warning. */
  severity?: 'error' | 'warning';
}

/**
 * The one error type that crosses module boundaries. `code` is from the catalogue (plugins may use
 * codes of their own, which are then treated by their class digit).
 */
export class ShepherdError extends Error {
  readonly code: string;
  readonly details: Record<string, unknown>;
  readonly at: SourcePosition | undefined;
  readonly retryAfterMs: number | undefined;
  readonly detail: string | undefined;
  /** A warning is reported while what it is about is still used; see CodeSpec.severity. */
  readonly severity: 'error' | 'warning';

  constructor(code: ErrorCode | (string & {}), detail?: string, options: ShepherdErrorOptions = {}) {
    const base = isErrorCode(code) ? CODES[code].message : code;
    const where = options.at ? `${formatPosition(options.at)}: ` : '';
    super(`${where}${detail ? `${base}: ${detail}` : base} [${code}]`, { cause: options.cause });
    this.name = 'ShepherdError';
    this.code = code;
    this.detail = detail;
    this.details = options.details ?? {};
    this.at = options.at;
    this.retryAfterMs = options.retryAfterMs;
    this.severity =
      options.severity ??
      (isErrorCode(code) && (CODES[code] as CodeSpec).severity === 'warning' ? 'warning' : 'error');
  }

  get isWarning(): boolean {
    return this.severity === 'warning';
  }

  /** The same error, pointing at a position in a source file. */
  withPosition(at: SourcePosition | undefined): ShepherdError {
    if (!at) return this;
    return new ShepherdError(this.code, this.detail, {
      at,
      details: this.details,
      cause: this.cause,
      severity: this.severity,
    });
  }

  /** This warning as an error (`check --strict`, `strict: true`): same code, position and text. */
  asError(): ShepherdError {
    if (!this.isWarning) return this;
    return new ShepherdError(this.code, this.detail, {
      ...(this.at ? { at: this.at } : {}),
      details: this.details,
      cause: this.cause,
      severity: 'error',
    });
  }

  get class(): ErrorClass {
    return errorClass(this.code);
  }

  /** `quota` or `capacity` for errors that mean the cloud has no room (catalogue, or a plugin's `details.limit`). */
  get limit(): 'quota' | 'capacity' | undefined {
    if (isErrorCode(this.code)) {
      const spec: CodeSpec = CODES[this.code];
      return spec.limit;
    }
    const limit = this.details.limit;
    return limit === 'quota' || limit === 'capacity' ? limit : undefined;
  }

  /** True when the daemon may retry the operation later (2xxx, or a catalogue code marked `backoff`). */
  get retryable(): boolean {
    if (isErrorCode(this.code)) return CODES[this.code].retry === 'backoff';
    return this.class === 'primitive';
  }

  toJSON(): Record<string, unknown> {
    return {
      code: this.code,
      ...(this.isWarning ? { severity: 'warning' } : {}),
      message: this.message,
      ...(this.at ? { at: this.at } : {}),
      ...(Object.keys(this.details).length > 0 ? { details: this.details } : {}),
    };
  }
}

export function formatPosition(at: SourcePosition): string {
  return `${at.file}:${at.line}:${at.col}`;
}

/** Wraps anything thrown into a ShepherdError, keeping an existing code and the original as `cause`. */
export function asShepherdError(err: unknown, fallback: ErrorCode, detail?: string): ShepherdError {
  if (err instanceof ShepherdError) return err;
  const text = err instanceof Error ? err.message : String(err);
  return new ShepherdError(fallback, detail ? `${detail}: ${text}` : text, { cause: err });
}

export function isShepherdError(err: unknown, code?: string): err is ShepherdError {
  return err instanceof ShepherdError && (code === undefined || err.code === code);
}
