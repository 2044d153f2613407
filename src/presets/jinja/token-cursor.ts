import type { Token } from './lexer.js';
import { TemplateError } from './template-error.js';

/** Deeper nesting than this is refused: it is never needed, and it would exhaust the stack. */
export const MAX_NESTING = 100;

/** A template's tokens as its parser walks them: look-ahead, expectations, errors with their line, depth. */
export class TokenCursor {
  protected i = 0;
  protected depth = 0;

  constructor(protected readonly tokens: Token[]) {}

  protected get cur(): Token {
    return this.tokens[this.i]!;
  }

  protected peek(n = 1): Token {
    return this.tokens[Math.min(this.i + n, this.tokens.length - 1)]!;
  }

  protected next(): Token {
    const t = this.cur;
    if (t.type !== 'eof') this.i++;
    return t;
  }

  protected fail(message: string, line = this.cur.line): TemplateError {
    return new TemplateError('syntax', message, line);
  }

  protected isOp(value: string): boolean {
    return this.cur.type === 'op' && this.cur.value === value;
  }

  protected isName(value: string): boolean {
    return this.cur.type === 'name' && this.cur.value === value;
  }

  protected skipOp(value: string): boolean {
    if (!this.isOp(value)) return false;
    this.i++;
    return true;
  }

  protected skipName(value: string): boolean {
    if (!this.isName(value)) return false;
    this.i++;
    return true;
  }

  protected expectOp(value: string): Token {
    if (!this.isOp(value)) throw this.fail(`expected '${value}', got '${this.describe()}'`);
    return this.next();
  }

  protected expectName(value?: string): string {
    if (this.cur.type !== 'name' || (value !== undefined && this.cur.value !== value)) {
      throw this.fail(`expected ${value ? `'${value}'` : 'a name'}, got '${this.describe()}'`);
    }
    return this.next().value;
  }

  protected expectType(type: Token['type']): Token {
    if (this.cur.type !== type) throw this.fail(`unexpected '${this.describe()}'`);
    return this.next();
  }

  protected describe(): string {
    return this.cur.type === 'eof' ? 'end of template' : this.cur.value;
  }

  protected nest(): void {
    if (++this.depth > MAX_NESTING) {
      throw new TemplateError('depth', `nested more than ${MAX_NESTING} levels deep`, this.cur.line);
    }
  }
}
