import type { Value } from './values.js';

/**
 * Variables visible at one point of a template. Loops (each iteration), macros and `with` open a scope;
 * `if` does not. Lookups fall through to the enclosing scope, then to the context and the globals.
 */
export class Scope {
  private readonly vars = new Map<string, Value>();

  constructor(
    private readonly parent: Scope | undefined,
    private readonly root?: (name: string) => Value | undefined,
  ) {}

  lookup(name: string): Value | undefined {
    for (let s: Scope | undefined = this; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined || s.vars.has(name)) return v;
      if (!s.parent) return s.root?.(name);
    }
    return undefined;
  }

  set(name: string, value: Value): void {
    this.vars.set(name, value);
  }

  child(): Scope {
    return new Scope(this);
  }
}
