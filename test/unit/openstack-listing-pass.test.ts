import { describe, expect, it } from 'vitest';
import { passComplete } from '../../src/drivers/iaas/openstack/listing-pass.js';
import type { NovaServer } from '../../src/drivers/iaas/openstack/server-view.js';

/** `w` a server waiting for a cell (BUILD/scheduling), `b` one building in its cell, `a` an active one. */
function page(spec: string): NovaServer[] {
  return [...spec].map((c, i) => ({
    id: `${c}${i}`,
    name: `s${i}`,
    status: c === 'a' ? 'ACTIVE' : 'BUILD',
    'OS-EXT-STS:task_state': c === 'w' ? 'scheduling' : c === 'b' ? 'spawning' : null,
  }));
}

describe('passComplete', () => {
  it.each([
    // pages, limit, complete, why
    [['aab'], 3, true, 'no server waiting: nothing can move'],
    [['aa', 'ab', 'a'], 2, true, 'several pages, none waiting'],
    [[''], 2, true, 'an empty project'],
    [['wa'], 5, true, 'one page, far from the limit: neither query was cut'],
    [['wwa'], 6, true, 'length 3 + 2 waiting = 5 < 6'],
    [['wwaa'], 6, false, 'length 4 + 2 waiting = 6: two duplicates may have cut the cells query'],
    [['ww'], 3, false, 'the lab case: 2 waiting, cells cut to 1, its duplicate dropped, no next link'],
    [['ww', 'a'], 100, false, 'several pages with a server waiting'],
    [['aa', 'w'], 2, false, 'a waiting server on a later page'],
  ] as const)('%j with limit %i → %s (%s)', (pages, limit, complete, _why) => {
    expect(passComplete(pages.map(page), limit)).toBe(complete);
  });

  it('counts only BUILD servers whose task is scheduling as waiting', () => {
    const cell = page('b');
    const error = [{ ...page('w')[0], status: 'ERROR' }] as NovaServer[];
    expect(passComplete([cell, cell], 1)).toBe(true);
    expect(passComplete([error, error], 1)).toBe(true);
  });
});
