import { describe, expect, it } from 'vitest';
import { managePreset } from '../../src/reconcile/manage-preset.js';
import { runVerb, type VerbDeps } from '../../src/reconcile/run-verb.js';
import { parseState } from '../../src/reconcile/state.js';
import { preset } from '../helpers/fixtures.js';
import { simManage } from '../helpers/sim-manage.js';

describe('runVerb and the disruption budget', () => {
  it('waits for room, gives up with vm_verb_2002, and never holds back a verb that brings a VM back', async () => {
    const { cloud, deps } = simManage();
    const p = preset({ count: 2, healthcheck: null });
    for (let i = 0; i < 3; i++) await managePreset(p, deps, { force: true });
    const [a, b] = cloud.peek().filter((v) => v.state === 'running');
    expect(b).toBeDefined();
    const verbDeps: VerbDeps = {
      ...deps,
      scrubGraceMs: 60_000,
      leaseWaitMs: 1000,
      budgetWaitMs: 30,
      budgetPollMs: 5,
      onWaiting: (reason) => told.push(reason),
    };
    const told: (string | null)[] = [];
    const request = (vmId: string, verb: 'quiesce' | 'restart') => ({ preset: p, vmId, verb, by: 'ops' });

    // max_unavailable 0: one verb at a time may still take a VM out.
    await runVerb(request(a!.id, 'quiesce'), verbDeps);
    // The quiesced VM holds the budget: a restart of the other VM waits, then gives up.
    await expect(runVerb(request(b!.id, 'restart'), verbDeps)).rejects.toMatchObject({
      code: 'vm_verb_2002',
      message: expect.stringContaining('waiting for disruption budget: 1 of 0 unavailable (verb quiesce:'),
    });
    expect(told).toEqual([expect.stringMatching(/^waiting for disruption budget: /), null]);
    const state = parseState(await deps.runtime.load(p.name));
    expect(state.waiting).toBeUndefined(); // its entry went with it
    expect(state.events.filter((e) => e.type === 'verb_waiting').map((e) => e.vm)).toEqual([b!.id]);
    // Starting the quiesced VM again takes nothing out: it runs at once.
    await runVerb(request(a!.id, 'restart'), verbDeps);
    expect(parseState(await deps.runtime.load(p.name)).lifecycle).toBeUndefined();
  });
});
