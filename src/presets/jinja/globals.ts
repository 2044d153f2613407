import { pyRepr } from './python-str.js';
import type { Runtime } from './runtime.js';
import { TemplateError, typeError } from './template-error.js';
import {
  isInt,
  type Kwargs,
  newDict,
  num,
  PyCallable,
  PyObject,
  PyRange,
  Undefined,
  type Value,
} from './values.js';

/** Jinja2's sandbox refuses ranges longer than this (jinja2.sandbox.MAX_RANGE). */
export const MAX_RANGE = 100_000;

/** `namespace(...)`: the one object whose attributes `{% set ns.x = ... %}` may change. */
export class Namespace extends PyObject {
  constructor(readonly attrs: Record<string, Value>) {
    super();
  }
  attr(name: string): Value | undefined {
    return Object.hasOwn(this.attrs, name) ? this.attrs[name] : undefined;
  }
  override setAttr(name: string, value: Value): boolean {
    this.attrs[name] = value;
    return true;
  }
  shown(): string {
    return `<Namespace {${Object.keys(this.attrs)
      .map((k) => `${pyRepr(k)}: ${pyRepr(this.attrs[k]!)}`)
      .join(', ')}}>`;
  }
}

/** `cycler(...)`: next(), reset(), current. */
class Cycler extends PyObject {
  private pos = 0;
  constructor(private readonly items: Value[]) {
    super();
  }
  attr(name: string): Value | undefined {
    switch (name) {
      case 'current':
        return this.items[this.pos] ?? null;
      case 'next':
        return new PyCallable('next', () => {
          const v = this.items[this.pos] ?? null;
          this.pos = (this.pos + 1) % this.items.length;
          return v;
        });
      case 'reset':
        return new PyCallable('reset', () => {
          this.pos = 0;
          return null;
        });
      case 'items':
        return this.items;
      default:
        return undefined;
    }
  }
  shown(): string {
    return '<jinja2.utils.Cycler object>';
  }
}

function intArg(v: Value | undefined, what: string): number {
  if (v === undefined || !isInt(v)) throw typeError(`'${what}' object cannot be interpreted as an integer`);
  return num(v);
}

/** Python's range with the sandbox's size limit. */
export function range(rt: Runtime, args: Value[]): PyRange {
  if (args.length === 0 || args.length > 3)
    throw typeError(`range expected 1 to 3 arguments, got ${args.length}`);
  const [a, b, c] = args.map((x) => intArg(x, typeof x)) as [number, number?, number?];
  const [start, stop, step] = b === undefined ? [0, a, 1] : [a, b, c ?? 1];
  if (step === 0) throw new TemplateError('type', 'range() arg 3 must not be zero');
  const count = Math.max(0, Math.ceil((stop - start) / step));
  if (count > MAX_RANGE) {
    throw new TemplateError(
      'range',
      `range too big: ${count} items; the sandbox blocks ranges larger than MAX_RANGE (${MAX_RANGE})`,
    );
  }
  rt.charge(count);
  const out: number[] = new Array(count);
  for (let i = 0; i < count; i++) out[i] = start + i * step;
  return new PyRange(start, stop, step, out);
}

const LOREM = 'lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor'.split(' ');

/** The globals of Jinja2's default Environment. `lipsum` is deterministic here (Jinja2's is random). */
export function makeGlobals(rt: Runtime): Map<string, Value> {
  const fn = (name: string, call: (args: Value[], kwargs: Kwargs) => Value) => new PyCallable(name, call);
  return new Map<string, Value>([
    ['range', fn('range', (args) => range(rt, args))],
    ['dict', fn('dict', (args, kwargs) => newDict([...dictArgs(args), ...Object.entries(kwargs)]))],
    [
      'namespace',
      fn(
        'namespace',
        (args, kwargs) => new Namespace(newDict([...dictArgs(args), ...Object.entries(kwargs)])),
      ),
    ],
    ['cycler', fn('cycler', (args) => new Cycler(args))],
    ['joiner', fn('joiner', (args) => joiner(args[0] === undefined ? ', ' : String(args[0])))],
    ['lipsum', fn('lipsum', () => `${LOREM.join(' ')}.`)],
  ]);
}

function dictArgs(args: Value[]): [string, Value][] {
  const first = args[0];
  if (first === undefined || first === null) return [];
  if (typeof first === 'object' && !Array.isArray(first) && Object.getPrototypeOf(first) === null) {
    return Object.entries(first as Record<string, Value>);
  }
  if (first instanceof Undefined) return [];
  if (
    typeof first === 'object' &&
    !Array.isArray(first) &&
    Object.getPrototypeOf(first) === Object.prototype
  ) {
    return Object.entries(first as Record<string, Value>);
  }
  throw typeError('dict() takes a mapping or keyword arguments here');
}

function joiner(sep: string): PyCallable {
  let used = false;
  return new PyCallable('joiner', () => {
    if (!used) {
      used = true;
      return '';
    }
    return sep;
  });
}
