import type { Expr, MacroDef, Node, Target } from './ast.js';
import { withBudget } from './budget.js';
import { escapeHtml } from './escape.js';
import { Evaluator, Out, outputError } from './evaluator.js';
import { Namespace } from './globals.js';
import { LoopContext } from './loop-context.js';
import { iterate } from './operators.js';
import { pyStr } from './python-str.js';
import type { Scope } from './scope.js';
import { asTemplateError, TemplateError, typeError } from './template-error.js';
import {
  type Kwargs,
  Markup,
  newDict,
  PyCallable,
  PyTuple,
  truthy,
  Undefined,
  type Value,
} from './values.js';

export { DEFAULT_LIMITS, type RenderLimits } from './evaluator.js';

/** Walks a parsed template against a context, as Jinja2's generated code would. */
export class Renderer extends Evaluator {
  render(nodes: Node[]): string {
    const out = new Out(this.limits.maxOutputBytes);
    withBudget(this, () => this.renderNodes(nodes, this.root.child(), out));
    const result = out.toString();
    if (Buffer.byteLength(result) > this.limits.maxOutputBytes) throw outputError(this.limits.maxOutputBytes);
    return result;
  }

  // --- statements ---------------------------------------------------------------------------------

  private renderNodes(nodes: Node[], scope: Scope, out: Out): void {
    for (const node of nodes) {
      this.tick();
      try {
        this.renderNode(node, scope, out);
      } catch (err) {
        throw asTemplateError(err).at(node.line);
      }
    }
  }

  private capture(nodes: Node[], scope: Scope): string {
    const out = new Out(this.limits.maxOutputBytes);
    this.renderNodes(nodes, scope, out);
    return out.toString();
  }

  private renderNode(node: Node, scope: Scope, out: Out): void {
    switch (node.t) {
      case 'text':
        out.write(node.text);
        break;
      case 'output': {
        const v = this.eval(node.expr, scope);
        out.write(this.autoescape ? escapeHtml(v).text : pyStr(v));
        break;
      }
      case 'if':
        this.renderNodes(truthy(this.eval(node.test, scope)) ? node.body : node.else, scope, out);
        break;
      case 'for':
        this.renderFor(node, scope, out);
        break;
      case 'set':
        this.assign(node.target, this.eval(node.value, scope), scope);
        break;
      case 'setblock': {
        const body = this.captured(node.body, scope);
        this.assign(node.target, this.applyFilterChain(node.filters, body, scope), scope);
        break;
      }
      case 'with': {
        // Every value is computed in the enclosing scope before any name is bound, as Jinja2 does.
        const inner = scope.child();
        const values = node.targets.map(([, e]) => this.eval(e, scope));
        for (const [i, [t]] of node.targets.entries()) this.assign(t, values[i]!, inner);
        this.renderNodes(node.body, inner, out);
        break;
      }
      case 'macro':
        scope.set(node.macro.name, this.makeMacro(node.macro, scope));
        break;
      case 'callblock':
        out.write(pyStr(this.callBlock(node.call, node.caller, scope)));
        break;
      case 'filterblock':
        out.write(pyStr(this.applyFilterChain(node.filters, this.captured(node.body, scope), scope)));
        break;
      case 'block':
        this.renderNodes(node.body, scope.child(), out);
        break;
      case 'autoescape': {
        const saved = this.autoescape;
        this.autoescape = truthy(this.eval(node.value, scope));
        try {
          this.renderNodes(node.body, scope, out);
        } finally {
          this.autoescape = saved;
        }
        break;
      }
      case 'load':
        throw new TemplateError(
          'unsupported',
          `{% ${node.tag} %} is not available: a userdata template cannot load other templates`,
        );
    }
  }

  /** A block's text as a value: Markup under autoescape, so printing it does not escape it twice. */
  private captured(nodes: Node[], scope: Scope): Value {
    const s = this.capture(nodes, scope);
    return this.autoescape ? new Markup(s) : s;
  }

  private renderFor(node: Extract<Node, { t: 'for' }>, scope: Scope, out: Out): void {
    const run = (iterable: Value, depth0: number, into: Out): void => {
      let items = iterate(iterable);
      if (node.filter) {
        const filter = node.filter;
        items = items.filter((item) => {
          this.tick();
          const s = scope.child();
          this.assign(node.target, item, s);
          return truthy(this.eval(filter, s));
        });
      }
      const recurse = node.recursive
        ? (children: Value) => {
            this.enter();
            try {
              const o = new Out(this.limits.maxOutputBytes);
              run(children, depth0 + 1, o);
              return this.autoescape ? new Markup(o.toString()) : o.toString();
            } finally {
              this.depth--;
            }
          }
        : undefined;
      const loop = new LoopContext(items, depth0, recurse);
      for (let i = 0; i < items.length; i++) {
        this.tick();
        loop.index0 = i;
        const s = scope.child();
        this.assign(node.target, items[i]!, s);
        s.set('loop', loop);
        this.renderNodes(node.body, s, into);
      }
      if (items.length === 0) this.renderNodes(node.else, scope, into);
    };
    run(this.eval(node.iter, scope), 0, out);
  }

  private assign(target: Target, value: Value, scope: Scope): void {
    if (target.t === 'name') {
      scope.set(target.name, value);
      return;
    }
    if (target.t === 'nsattr') {
      const ns = scope.lookup(target.name);
      if (!(ns instanceof Namespace)) throw typeError('cannot assign attribute on non-namespace object');
      ns.setAttr(target.attr, value);
      return;
    }
    const items = iterate(value);
    if (items.length !== target.items.length) {
      throw typeError(
        items.length > target.items.length
          ? `too many values to unpack (expected ${target.items.length})`
          : `not enough values to unpack (expected ${target.items.length}, got ${items.length})`,
      );
    }
    for (const [i, t] of target.items.entries()) this.assign(t, items[i]!, scope);
  }

  private applyFilterChain(filters: Expr[], body: Value, scope: Scope): Value {
    let v: Value = body;
    for (const f of filters) {
      if (f.t !== 'filter') continue;
      const [args, kwargs] = this.evalArgs(f.args, scope);
      v = this.applyFilter(f.name, v, args, kwargs);
    }
    return v;
  }

  // --- macros ---------------------------------------------------------------------------------------

  private makeMacro(def: MacroDef, scope: Scope): PyCallable {
    return new PyCallable(
      def.name,
      (args, kwargs) => this.callMacro(def, scope, args, kwargs),
      `<Macro '${def.name}'>`,
    );
  }

  private callMacro(def: MacroDef, defScope: Scope, args: Value[], kwargsIn: Kwargs): Value {
    this.enter();
    try {
      const s = defScope.child();
      const kwargs: Kwargs = { ...kwargsIn };
      def.params.forEach((p, i) => {
        if (i < args.length) s.set(p.name, args[i]!);
        else if (Object.hasOwn(kwargs, p.name)) s.set(p.name, kwargs[p.name]!);
        else s.set(p.name, p.default ? this.eval(p.default, s) : new Undefined(p.name));
        delete kwargs[p.name];
      });
      const extra = args.slice(def.params.length);
      if (extra.length && !def.catchVarargs) {
        throw typeError(`macro '${def.name}' takes not more than ${def.params.length} argument(s)`);
      }
      if (def.catchVarargs) s.set('varargs', new PyTuple(extra));
      if (Object.hasOwn(kwargs, 'caller')) {
        if (!def.catchCaller)
          throw typeError(`macro '${def.name}' was invoked with argument 'caller' it does not take`);
        s.set('caller', kwargs.caller!);
        delete kwargs.caller;
      } else if (def.catchCaller) s.set('caller', new Undefined('caller'));
      const left = Object.keys(kwargs);
      if (left.length && !def.catchKwargs)
        throw typeError(`macro '${def.name}' takes no keyword argument '${left[0]}'`);
      if (def.catchKwargs) s.set('kwargs', newDict(Object.entries(kwargs)));
      return this.captured(def.body, s);
    } finally {
      this.depth--;
    }
  }

  private callBlock(call: Expr, caller: MacroDef, scope: Scope): Value {
    if (call.t !== 'call') throw typeError('call block needs a call');
    const fn = this.eval(call.fn, scope);
    const [args, kwargs] = this.evalArgs(call.args, scope);
    kwargs.caller = this.makeMacro(caller, scope);
    return this.call(fn, args, kwargs);
  }

  // --- expressions ----------------------------------------------------------------------------------
}
