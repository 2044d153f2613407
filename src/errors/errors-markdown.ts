import { CODES, type CodeSpec, errorClass } from './codes.js';

const CLASS_TITLE = {
  api: '0xxx: a remote API refused, or a resource is not in the state the API should report',
  internal: '1xxx: our own input or invariant (configuration, presets, bugs): fix, do not retry',
  primitive:
    '2xxx: the underlying operation failed (connection, timeout, filesystem, VM build): retried with backoff',
} as const;

/** docs/errors.md, generated from the catalogue; a test fails when the file differs. */
export function errorsMarkdown(): string {
  const lines = [
    '# Error codes',
    '',
    '<!-- Generated from src/errors/codes.ts by `npm run gen`; do not edit by hand. -->',
    '',
    'Every error vmshepherd reports (logs, `check`, API, panel) carries one of these codes, `<owner>_<verb>_NNNN`.',
    'The first digit of the number is its class. "Retry" says what the daemon does by itself: `backoff` retries later,',
    '`no` needs someone to fix the cause. "HTTP" is the status the API answers with. Codes marked **warning** are',
    'reported while what they are about is still used (a key ignored, a value converted, as the original did); `vmshepherd',
    'check --strict` and `strict: true` in the main configuration make them errors.',
    '',
  ];
  for (const cls of ['api', 'internal', 'primitive'] as const) {
    lines.push(
      `## ${CLASS_TITLE[cls]}`,
      '',
      '| code | what happened | how to fix | retry | HTTP |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const [code, spec] of Object.entries(CODES).sort(([a], [b]) => a.localeCompare(b))) {
      if (errorClass(code) !== cls) continue;
      lines.push(
        `| \`${code}\` | ${(spec as CodeSpec).severity === 'warning' ? '**warning**: ' : ''}${cell(spec.message)} | ${cell(spec.fix)} | ${spec.retry} | ${spec.http} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|');
}
