import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configJsonSchema, presetJsonSchema } from '../../src/config/json-schemas.js';
import { CODES, errorClass } from '../../src/errors/codes.js';
import { errorsMarkdown } from '../../src/errors/errors-markdown.js';

describe('generated files are in sync (run `npm run gen` after changing their sources)', () => {
  it('docs/errors.md lists every catalogue code', () => {
    const doc = readFileSync('docs/errors.md', 'utf8');
    expect(doc).toBe(errorsMarkdown());
    for (const code of Object.keys(CODES)) expect(doc).toContain(`\`${code}\``);
  });

  it('schema/*.json are generated from the validating schemas', () => {
    expect(JSON.parse(readFileSync('schema/config.schema.json', 'utf8'))).toEqual(configJsonSchema());
    expect(JSON.parse(readFileSync('schema/preset.schema.json', 'utf8'))).toEqual(presetJsonSchema());
  });
});

describe('the error catalogue', () => {
  it('names every code <owner>_<verb>_NNNN with a class digit of 0, 1 or 2', () => {
    for (const code of Object.keys(CODES)) {
      expect(code).toMatch(/^[a-z]+_[a-z]+_[012]\d{3}$/);
      expect(['api', 'internal', 'primitive']).toContain(errorClass(code));
    }
  });

  it('has a message and a fix for every code', () => {
    for (const spec of Object.values(CODES)) {
      expect(spec.message.length).toBeGreaterThan(10);
      expect(spec.fix.length).toBeGreaterThan(5);
    }
  });

  it('every code used in the sources is in the catalogue', async () => {
    const { execFileSync } = await import('node:child_process');
    const used = execFileSync('grep', ['-rhoE', "'[a-z]+_[a-z]+_[012][0-9]{3}'", 'src'], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map((s) => s.slice(1, -1));
    expect(new Set(used).size).toBeGreaterThan(20);
    const unknown = [...new Set(used)].filter((c) => !(c in CODES));
    expect(unknown).toEqual([]);
  });

  it('the editor schema offers the built-in drivers and the JSON Schema of their options', () => {
    const schema = presetJsonSchema() as {
      properties: { iaas: { allOf: { if: unknown; then: { properties: object } }[] } };
    };
    const dummy = schema.properties.iaas.allOf.find((b) => JSON.stringify(b.if).includes('DummyIaasDriver'))!;
    expect(Object.keys(dummy.then.properties)).toEqual(
      expect.arrayContaining(['boot_time', 'error_rate', 'quota']),
    );
  });
});
