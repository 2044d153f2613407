/**
 * Why a template failed. `kind` says which catalogue code the caller reports: the limits have codes of
 * their own, so an operator can tell a runaway template from a typo.
 */
export type TemplateErrorKind =
  | 'syntax'
  | 'undefined'
  | 'type'
  | 'security'
  | 'unsupported'
  | 'steps'
  | 'output'
  | 'range'
  | 'depth';

export class TemplateError extends Error {
  constructor(
    readonly kind: TemplateErrorKind,
    message: string,
    /** 1-based line in the template, when known. */
    public line?: number,
  ) {
    super(line === undefined ? message : `line ${line}: ${message}`);
    this.name = 'TemplateError';
  }

  /** Adds the line once, at the innermost node that knows it. */
  at(line: number): this {
    if (this.line === undefined) {
      this.line = line;
      this.message = `line ${line}: ${this.message}`;
    }
    return this;
  }
}

export const typeError = (message: string) => new TemplateError('type', message);
export const undefinedError = (message: string) => new TemplateError('undefined', message);

/** Errors from the engine's own code (a stack overflow, a bug) still fail only this one template. */
export function asTemplateError(err: unknown): TemplateError {
  if (err instanceof TemplateError) return err;
  if (err instanceof RangeError && /call stack/i.test(err.message)) {
    return new TemplateError('depth', 'the template nests too deeply');
  }
  return new TemplateError('type', err instanceof Error ? err.message : String(err));
}
