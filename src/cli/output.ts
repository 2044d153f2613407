import type { ShepherdError } from '../errors/shepherd-error.js';
import { formatPosition } from '../errors/shepherd-error.js';

export type OutputFormat = 'text' | 'json';

/** The CLI's only way to print: data goes to stdout, diagnostics to stderr. */
export function print(text: string): void {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
}

export function printJson(value: unknown): void {
  print(JSON.stringify(value, null, 2));
}

export function printErr(text: string): void {
  process.stderr.write(text.endsWith('\n') ? text : `${text}\n`);
}

/** `file:line:col: error code: message`, the form editors and CI annotate. */
export function errorLine(e: ShepherdError, severity: 'error' | 'warning' = 'error'): string {
  const where = e.at ? `${formatPosition(e.at)}: ` : '';
  const text = e.at ? e.message.replace(`${formatPosition(e.at)}: `, '') : e.message;
  return `${where}${severity} ${e.code}: ${text.replace(/ \[[a-z0-9_]+\]$/, '')}`;
}
