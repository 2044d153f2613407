import { describe, expect, it } from 'vitest';
import { managePreset } from '../../src/reconcile/manage-preset.js';
import { parseState } from '../../src/reconcile/state.js';
import { preset } from '../helpers/fixtures.js';
import { simManage } from '../helpers/sim-manage.js';

describe('a manage that fails after deciding a count from demand', () => {
  it('keeps the count it decided with its event, so the next manage records no second change', async () => {
    const { deps } = simManage();
    const web = preset({
      count: 2,
      healthcheck: null,
      demand: {
        min: 2,
        max: 10,
        target: { prometheus: { url: 'http://127.0.0.1:1', query: 'q', timeoutMs: 1000 }, perVm: 1 },
        schedule: [],
        cooldownMs: 0,
        step: 10,
      },
    });
    const save = deps.runtime.save.bind(deps.runtime);
    let refuse = 1; // the store refuses the manage's own save once (a hiccup): the failure is saved after
    const failing = {
      ...deps,
      demandQuery: async () => 5,
      runtime: Object.assign(Object.create(deps.runtime), {
        save: (...a: Parameters<typeof save>) =>
          refuse-- > 0 ? Promise.reject(new Error('hiccup')) : save(...a),
      }),
    };
    const o = await managePreset(web, failing, { force: true });
    expect(o.result).toBe('failed');
    const after = parseState(await deps.runtime.load('web'));
    expect(after.demand?.count).toBe(5);
    expect(after.events.filter((e) => e.type === 'count_changed')).toHaveLength(1);
    await managePreset(web, { ...deps, demandQuery: async () => 5 }, { force: true });
    const again = parseState(await deps.runtime.load('web'));
    expect(again.events.filter((e) => e.type === 'count_changed')).toHaveLength(1);
    expect(again.demand?.count).toBe(5);
  });
});
