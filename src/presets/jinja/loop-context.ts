import { pyEq } from './operators.js';
import { type Kwargs, PyCallable, PyObject, Undefined, type Value } from './values.js';

/** `loop` inside a for loop: its position, neighbours, cycle(), changed(), and loop() when recursive. */
export class LoopContext extends PyObject {
  index0 = -1;
  private lastChanged: Value[] | undefined;

  constructor(
    private readonly items: Value[],
    private readonly depth0: number,
    recurse: ((items: Value) => Value) | undefined,
  ) {
    super();
    if (recurse) this.invoke = (args: Value[], _kwargs: Kwargs) => recurse(args[0] ?? null);
  }

  attr(name: string): Value | undefined {
    const n = this.items.length;
    const i = this.index0;
    switch (name) {
      case 'index':
        return i + 1;
      case 'index0':
        return i;
      case 'revindex':
        return n - i;
      case 'revindex0':
        return n - i - 1;
      case 'first':
        return i === 0;
      case 'last':
        return i === n - 1;
      case 'length':
        return n;
      case 'depth':
        return this.depth0 + 1;
      case 'depth0':
        return this.depth0;
      case 'previtem':
        return i > 0 ? this.items[i - 1]! : new Undefined('there is no previous item');
      case 'nextitem':
        return i < n - 1 ? this.items[i + 1]! : new Undefined('there is no next item');
      case 'cycle':
        return new PyCallable('cycle', (args) => {
          if (!args.length) throw new Error('no items for cycling given');
          return args[i % args.length]!;
        });
      case 'changed':
        return new PyCallable('changed', (args) => {
          const prev = this.lastChanged;
          this.lastChanged = args;
          return (
            prev === undefined || prev.length !== args.length || !args.every((a, k) => pyEq(a, prev[k]!))
          );
        });
      default:
        return undefined;
    }
  }

  shown(): string {
    return `<LoopContext ${this.index0 + 1}/${this.items.length}>`;
  }
}
