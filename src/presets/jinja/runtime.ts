import type { Kwargs, Value } from './values.js';

/**
 * What filters, tests, methods and globals may ask of the renderer: attribute access under the sandbox
 * rules, calls, and the budget that keeps one template from stalling the daemon.
 */
export interface Runtime {
  getattr(obj: Value, name: string): Value;
  getitem(obj: Value, key: Value): Value;
  call(fn: Value, args: Value[], kwargs: Kwargs): Value;
  /** Python's binary operators (`+` on text, lists and numbers for `sum`). */
  binop(op: string, a: Value, b: Value): Value;
  applyFilter(name: string, value: Value, args: Value[], kwargs: Kwargs): Value;
  applyTest(name: string, value: Value, args: Value[], kwargs: Kwargs): boolean;
  hasFilter(name: string): boolean;
  hasTest(name: string): boolean;
  /** Counts work proportional to `size` (characters or items made) against the step budget. */
  charge(size: number): void;
  /** Refuses text longer than the output limit before it is built. */
  checkLength(length: number): void;
  /** Refuses a list longer than MAX_RANGE items before it is built. */
  checkItems(count: number): void;
}

export type FilterFn = (rt: Runtime, value: Value, args: Value[], kwargs: Kwargs) => Value;
export type TestFn = (rt: Runtime, value: Value, args: Value[], kwargs: Kwargs) => boolean;

/** A method of a Python type, called with the value it is bound to (methods.ts, str-methods.ts). */
export type Method<T> = (rt: Runtime, self: T, args: Value[], kwargs: Kwargs) => Value;
