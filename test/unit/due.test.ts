import { describe, expect, it } from 'vitest';
import { isDue } from '../../src/reconcile/due.js';

const NOW = 1_800_000_000_000;
const HOUR = 3_600_000;

describe('isDue', () => {
  it.each([
    ['never managed', null, true],
    ['managed just now', NOW - 100, false],
    ['managed one interval ago', NOW - 10_000, true],
    ['managed long ago', NOW - HOUR, true],
    // Another instance's clock a little ahead: accepted, not managed twice.
    ['stamped half an interval ahead', NOW + 5_000, false],
    ['stamped exactly one interval ahead', NOW + 10_000, false],
    // Its clock (or this one, stepped back) an hour off: waiting would leave the preset unmanaged an hour.
    ['stamped an hour ahead', NOW + HOUR, true],
    ['stamped just over one interval ahead', NOW + 10_001, true],
  ])('%s', (_what, last, due) => {
    expect(isDue(last, 10_000, NOW)).toBe(due);
  });
});
