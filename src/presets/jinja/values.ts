/**
 * The values a template works with, modelled on the Python values Jinja2 sees. Context data arrives as
 * JSON-like JavaScript (null, booleans, numbers, strings, arrays, plain objects); the engine adds the few
 * Python types whose printing or behaviour differs: floats that hold a whole number (`1.0`), tuples,
 * Markup (escaped text), Undefined, and callables. No JavaScript object of the host is ever a value.
 */

/** A Python float whose value is a whole number: JavaScript cannot tell 1.0 from 1, Python prints them apart. */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** A Python tuple: prints with parentheses, compares unequal to a list. */
export class PyTuple {
  constructor(readonly items: Value[]) {}
}

/** dict.keys(), values() and items(): walked like a tuple, printed as Python prints the view. */
export class DictView extends PyTuple {
  constructor(
    readonly kind: 'dict_keys' | 'dict_values' | 'dict_items',
    items: Value[],
  ) {
    super(items);
  }
}

/** range(): walked like a tuple (the sandbox bounds its length), printed as `range(0, 3)`. */
export class PyRange extends PyTuple {
  constructor(
    readonly start: number,
    readonly stop: number,
    readonly step: number,
    items: Value[],
  ) {
    super(items);
  }
}

/** Text already escaped for HTML (Jinja2's Markup): `escape` leaves it alone, `+` escapes the other side. */
export class Markup {
  constructor(readonly text: string) {}
}

/**
 * A missing variable or attribute. Printing it gives '', iterating gives nothing; using it any further
 * raises, as Jinja2's default Undefined does. `unsafe` marks an attribute the sandbox refused.
 */
export class Undefined {
  constructor(
    readonly hint: string,
    readonly unsafe = false,
  ) {}
}

export type Kwargs = Record<string, Value>;

/** Something a template can call: a global, a method bound to a value, a macro, `loop`, `caller`. */
export class PyCallable {
  constructor(
    readonly name: string,
    readonly call: (args: Value[], kwargs: Kwargs) => Value,
    /** How Python's str() shows it, for the rare template that prints one. */
    readonly shown = `<function ${name}>`,
  ) {}
}

/** An object with attributes of its own (namespace, cycler, loop, group tuple); `attr` returns undefined when absent. */
export abstract class PyObject {
  abstract attr(name: string): Value | undefined;
  abstract shown(): string;
  /** Present on objects a template may call (`loop(children)` of a recursive loop). */
  invoke?(args: Value[], kwargs: Kwargs): Value;
  /** Only the namespace accepts `{% set ns.x = ... %}`. */
  setAttr(_name: string, _value: Value): boolean {
    return false;
  }
}

export type Dict = { [key: string]: Value };

export type Value =
  | null
  | boolean
  | number
  | string
  | PyFloat
  | PyTuple
  | Markup
  | Undefined
  | PyCallable
  | PyObject
  | Value[]
  | Dict;

export const isDict = (v: unknown): v is Dict => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

export const isNumber = (v: Value): v is number | PyFloat | boolean =>
  typeof v === 'number' || v instanceof PyFloat || typeof v === 'boolean';

/** int in Python's sense (bool is an int there too). */
export const isInt = (v: Value): v is number | boolean =>
  typeof v === 'boolean' || (typeof v === 'number' && Number.isInteger(v) && !Object.is(v, -0));

export const isFloat = (v: Value): boolean => v instanceof PyFloat || (typeof v === 'number' && !isInt(v));

export const isString = (v: Value): v is string | Markup => typeof v === 'string' || v instanceof Markup;

export const isSequence = (v: Value): v is Value[] | PyTuple => Array.isArray(v) || v instanceof PyTuple;

/** The JavaScript number of a Python number. */
export const num = (v: number | PyFloat | boolean): number =>
  typeof v === 'number' ? v : typeof v === 'boolean' ? Number(v) : v.value;

/** A float result: whole numbers need the wrapper to keep printing as `2.0`. */
export const mkFloat = (n: number): number | PyFloat => (Number.isInteger(n) ? new PyFloat(n) : n);

/** The text of a str or Markup. */
export const text = (v: string | Markup): string => (typeof v === 'string' ? v : v.text);

export const dictKeys = (d: Dict): string[] => Object.keys(d);

export const dictGet = (d: Dict, key: string): Value | undefined =>
  Object.hasOwn(d, key) ? (d[key] as Value) : undefined;

/**
 * Sets a key as an own property even when it is `__proto__`: context dicts are ordinary objects, where
 * plain assignment to `__proto__` would change the object's prototype instead of adding a key.
 */
export function dictSet(d: Dict, key: string, value: Value): void {
  Object.defineProperty(d, key, { value, writable: true, enumerable: true, configurable: true });
}

/** A new dict that has no prototype: keys such as `__proto__` or `constructor` stay plain keys. */
export function newDict(entries: Iterable<[string, Value]> = []): Dict {
  const d: Dict = Object.create(null);
  for (const [k, v] of entries) d[k] = v;
  return d;
}

/** How much work a value costs to walk: characters of text, items of a container. */
export function sizeOf(v: Value): number {
  if (typeof v === 'string') return v.length;
  if (v instanceof Markup) return v.text.length;
  if (Array.isArray(v)) return v.length;
  if (v instanceof PyTuple) return v.items.length;
  if (isDict(v)) return Object.keys(v).length;
  return 1;
}

/** Python truthiness. */
export function truthy(v: Value): boolean {
  if (v === null || v instanceof Undefined) return false;
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0; // NaN is true in Python too
  if (v instanceof PyFloat) return v.value !== 0;
  if (typeof v === 'string') return v.length > 0;
  if (v instanceof Markup) return v.text.length > 0;
  if (Array.isArray(v)) return v.length > 0;
  if (v instanceof PyTuple) return v.items.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** Python's type name, for error messages. */
export function typeName(v: Value): string {
  if (v === null) return 'NoneType';
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'number') return isInt(v) ? 'int' : 'float';
  if (v instanceof PyFloat) return 'float';
  if (typeof v === 'string') return 'str';
  if (v instanceof Markup) return 'Markup';
  if (v instanceof Undefined) return 'Undefined';
  if (v instanceof DictView) return v.kind;
  if (v instanceof PyRange) return 'range';
  if (v instanceof PyTuple) return 'tuple';
  if (Array.isArray(v)) return 'list';
  if (v instanceof PyCallable) return 'function';
  if (v instanceof PyObject) return v.constructor.name;
  return 'dict';
}
