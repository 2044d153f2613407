import { describe, expect, it } from 'vitest';
import { type PassStep, ServerPass } from '../../src/drivers/iaas/openstack/listing-pass.js';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';

/**
 * A page written as letters, one server each: `w` waiting for a cell (BUILD/scheduling), `b` building in
 * its cell, `a` active, `e` in ERROR; a trailing `>` is Nova's `next` link. Ids are the letter and its
 * place in the whole pass, so a marker names the server it is.
 */
function pages(spec: string): { page: NovaServer[]; more: boolean }[] {
  let n = 0;
  return spec.split(' ').map((p) => ({
    more: p.endsWith('>'),
    page: [...p.replace('>', '').replace('0', '')].map((c) => {
      n++;
      return {
        id: `${c}${n}`,
        name: `s${n}`,
        status: c === 'a' ? 'ACTIVE' : c === 'e' ? 'ERROR' : 'BUILD',
        'OS-EXT-STS:task_state': c === 'w' ? 'scheduling' : c === 'b' ? 'spawning' : null,
      };
    }),
  }));
}

function walk(spec: string, limit: number): PassStep[] {
  const pass = new ServerPass(limit);
  return pages(spec).map(({ page, more }) => pass.after(page, more));
}

describe('ServerPass', () => {
  it.each([
    // pages, limit, steps, why
    ['aab', 3, [{ whole: true }], 'one page, none waiting'],
    ['aa> ab> a', 2, [{ marker: 'a2' }, { marker: 'b4' }, { whole: true }], 'pages of the cells alone'],
    ['0', 2, [{ whole: true }], 'an empty project'],
    ['wa', 5, [{ whole: true }], 'one page far from the limit: neither query was cut'],
    ['wwa', 6, [{ whole: true }], 'length 3 + 2 waiting = 5 < 6'],
    [
      'wwaa a',
      6,
      [{ marker: 'a4' }, { whole: true }],
      'length 4 + 2 waiting = 6: the rest is asked of the cells',
    ],
    ['ww', 3, [{ whole: false }], 'only waiting servers filling the limit: more build requests may follow'],
    ['wa> wb> a', 2, [{ marker: 'a2' }, { marker: 'b4' }, { whole: true }], 'markers skip waiting servers'],
    [
      'wa> bw> a',
      2,
      [{ marker: 'a2' }, { marker: 'b3' }, { whole: true }],
      'a marker before the last server',
    ],
    [
      'wa> ea> a',
      2,
      [{ marker: 'a2' }, { marker: 'a4' }, { whole: true }],
      'a server in ERROR is never a marker',
    ],
    ['wa> ww> a', 2, [{ marker: 'a2' }, { marker: 'w4' }, { whole: false }], 'no server fit to be a marker'],
    [
      'aa> ee> a',
      2,
      [{ marker: 'a2' }, { marker: 'e4' }, { whole: true }],
      'none waiting: any marker will do',
    ],
  ] as const)('%s with limit %i (%s)', (spec, limit, steps, _why) => {
    expect(walk(spec, limit)).toEqual(steps);
  });
});
