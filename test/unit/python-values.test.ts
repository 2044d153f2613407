import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { withoutPaths } from '../../src/config/ignore-unknown.js';
import { coerceLikePython, pythonStr } from '../../src/drivers/python-values.js';

const schema = z.strictObject({
  name: z.string(),
  level: z.enum(['info', 'debug']).optional(),
  flag: z.boolean().default(false),
  count: z.number().optional(),
  groups: z.array(z.string()).optional(),
  nested: z.strictObject({ key: z.string().optional() }).optional(),
  either: z.union([z.string(), z.array(z.string())]).optional(),
});

describe('values converted as the original (Python) used them', () => {
  it("gives str() where text is expected, Python's spelling of booleans included", () => {
    const { value, coercions } = coerceLikePython(schema, {
      name: 2024,
      groups: ['web', 7],
      nested: { key: true },
      either: [1.5],
    });
    expect(value).toEqual({ name: '2024', groups: ['web', '7'], nested: { key: 'True' }, either: ['1.5'] });
    expect(coercions.map((c) => c.path)).toEqual([['name'], ['groups', 1], ['nested', 'key'], ['either', 0]]);
  });

  it('takes the truth value where a boolean is expected', () => {
    const truth = (flag: unknown) => coerceLikePython(schema, { name: 'a', flag }).value;
    expect(truth('yes')).toMatchObject({ flag: true });
    expect(truth('false')).toMatchObject({ flag: true }); // non-empty text was true in Python
    expect(truth('')).toMatchObject({ flag: false });
    expect(truth(0)).toMatchObject({ flag: false });
  });

  it('takes an empty optional value as not given, and leaves what Python could not use to the schema', () => {
    const { value, coercions } = coerceLikePython(schema, { name: 'a', count: null, level: 1, flag: true });
    expect(value).toEqual({ name: 'a', level: 1, flag: true });
    expect(coercions.map((c) => c.path)).toEqual([['count']]);
    expect(coerceLikePython(schema, { name: 'a', count: '3' }).coercions).toEqual([]);
  });

  it('keeps the object itself when nothing changes', () => {
    const input = { name: 'a', nested: { key: 'b' } };
    expect(coerceLikePython(schema, input).value).toBe(input);
  });

  it('writes numbers and dates as Python printed them', () => {
    expect([1000, 1.5, Number.POSITIVE_INFINITY, Number.NaN].map(pythonStr)).toEqual([
      '1000',
      '1.5',
      'inf',
      'nan',
    ]);
    expect(pythonStr(new Date('2024-01-31T00:00:00Z'))).toBe('2024-01-31');
  });
});

describe('dropping ignored keys', () => {
  it('copies only the objects on the way', () => {
    const keep = { x: 1 };
    const input = { a: { b: 1, c: 2 }, keep };
    const out = withoutPaths(input, [['a', 'b']]);
    expect(out).toEqual({ a: { c: 2 }, keep });
    expect(out.keep).toBe(keep);
    expect(input.a).toEqual({ b: 1, c: 2 });
  });
});
