import { describe, expect, it } from 'vitest';
import { definePluginCodes } from '../../src/errors/define-plugin-codes.js';

describe('definePluginCodes', () => {
  it('refuses a code out of the catalogue format or a built-in code, whose meaning is fixed', () => {
    const spec = { message: 'm', fix: 'f' };
    expect(() => definePluginCodes({ 'Bad-code': spec })).toThrow(/not <owner>_<verb>_NNNN/);
    expect(() => definePluginCodes({ acme_create_3001: spec })).toThrow(/first 0-2/);
    expect(() => definePluginCodes({ cli_args_1001: spec })).toThrow(/built-in/);
  });

  it("builds errors treated by the code's class digit, with the plugin's text", () => {
    const codes = definePluginCodes({
      acme_create_2001: { message: 'The Acme API timed out', fix: 'Wait.' },
      acme_create_1001: { message: 'The Acme image is unknown', fix: 'Fix the preset.' },
    });
    const transient = codes.error('acme_create_2001', 'after 30 s', { details: { region: 'x' } });
    expect([transient.class, transient.retryable, transient.details]).toEqual([
      'primitive',
      true,
      { region: 'x', fix: 'Wait.' },
    ]);
    expect(transient.message).toBe('The Acme API timed out: after 30 s [acme_create_2001]');
    const input = codes.error('acme_create_1001');
    expect([input.class, input.retryable, input.message]).toEqual([
      'internal',
      false,
      'The Acme image is unknown [acme_create_1001]',
    ]);
  });
});
