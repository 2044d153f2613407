import { describe, expect, it } from 'vitest';
import { SharedValues } from '../../src/util/shared-values.js';

describe('SharedValues', () => {
  it('hands back the first of equal values, whatever the key order, and keeps different ones apart', () => {
    const shared = new SharedValues();
    const first = { a: 1, b: { c: [2, 3] } };
    expect(shared.share(first)).toBe(first);
    expect(shared.share({ b: { c: [2, 3] }, a: 1 })).toBe(first);
    const other = { a: 1, b: { c: [3, 2] } };
    expect(shared.share(other)).toBe(other);
    expect(shared.size).toBe(2);
  });
});
