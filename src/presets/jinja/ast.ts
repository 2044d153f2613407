/** The syntax tree the parser builds and the renderer walks. Every node keeps its line for error messages. */

export type Expr =
  | { t: 'const'; line: number; value: number | string | boolean | null; float?: boolean }
  | { t: 'name'; line: number; name: string }
  | { t: 'list'; line: number; items: Expr[] }
  | { t: 'tuple'; line: number; items: Expr[] }
  | { t: 'dict'; line: number; pairs: [Expr, Expr][] }
  | { t: 'getattr'; line: number; obj: Expr; name: string }
  | { t: 'getitem'; line: number; obj: Expr; key: Expr }
  | { t: 'slice'; line: number; start?: Expr; stop?: Expr; step?: Expr }
  | { t: 'call'; line: number; fn: Expr; args: CallArgs }
  | { t: 'filter'; line: number; name: string; value: Expr | null; args: CallArgs }
  | { t: 'test'; line: number; name: string; value: Expr; args: CallArgs }
  | { t: 'binop'; line: number; op: string; left: Expr; right: Expr }
  | { t: 'unary'; line: number; op: 'not' | '-' | '+'; value: Expr }
  | { t: 'and' | 'or'; line: number; left: Expr; right: Expr }
  | { t: 'compare'; line: number; first: Expr; ops: [string, Expr][] }
  | { t: 'concat'; line: number; items: Expr[] }
  | { t: 'cond'; line: number; test: Expr; yes: Expr; no?: Expr };

export interface CallArgs {
  args: Expr[];
  kwargs: [string, Expr][];
  star?: Expr;
  starstar?: Expr;
}

/** What `set`, `for` and `with` assign to: a name, a namespace attribute, or a tuple of targets. */
export type Target =
  | { t: 'name'; name: string }
  | { t: 'nsattr'; name: string; attr: string }
  | { t: 'tuple'; items: Target[] };

export interface MacroDef {
  name: string;
  params: { name: string; default?: Expr }[];
  body: Node[];
  /** The body reads `varargs`, `kwargs` or `caller`: the macro accepts extra arguments or a call block. */
  catchVarargs: boolean;
  catchKwargs: boolean;
  catchCaller: boolean;
}

export type Node =
  | { t: 'text'; line: number; text: string }
  | { t: 'output'; line: number; expr: Expr }
  | { t: 'if'; line: number; test: Expr; body: Node[]; else: Node[] }
  | {
      t: 'for';
      line: number;
      target: Target;
      iter: Expr;
      filter?: Expr;
      recursive: boolean;
      body: Node[];
      else: Node[];
    }
  | { t: 'set'; line: number; target: Target; value: Expr }
  | { t: 'setblock'; line: number; target: Target; body: Node[]; filters: Expr[] }
  | { t: 'with'; line: number; targets: [Target, Expr][]; body: Node[] }
  | { t: 'macro'; line: number; macro: MacroDef }
  | { t: 'callblock'; line: number; call: Expr; caller: MacroDef }
  | { t: 'filterblock'; line: number; filters: Expr[]; body: Node[] }
  | { t: 'block'; line: number; body: Node[] }
  | { t: 'autoescape'; line: number; value: Expr; body: Node[] }
  | { t: 'load'; line: number; tag: string };
