import { describe, expect, it } from 'vitest';
import { IAAS_CAPABILITIES, type IaasCapability } from '../../src/drivers/types.js';
import {
  decideVerb,
  type Lifecycle,
  lifecycleAfter,
  VERB_NAMES,
  type VerbName,
} from '../../src/reconcile/verbs.js';

const ALL: ReadonlySet<IaasCapability> = new Set(IAAS_CAPABILITIES);

// [verb, from, cloud operation, to] for every legal transition; everything else is refused.
const LEGAL: [VerbName, Lifecycle, string | null, Lifecycle][] = [
  ['quiesce', 'active', 'stop', 'quiesced'],
  ['restart', 'active', 'reboot', 'active'],
  ['restart', 'quiesced', 'start', 'active'],
  ['scrub', 'active', 'stop', 'scrubbing'],
  ['scrub', 'quiesced', null, 'scrubbing'],
  ['restore', 'scrubbing', 'start', 'active'],
  // which verbs an update takes is worked out from the VM's differing fields when it runs (in-place.ts)
  ['update', 'active', 'update', 'active'],
  ['update', 'quiesced', 'update', 'quiesced'],
];
const LIFECYCLES: Lifecycle[] = ['active', 'quiesced', 'scrubbing'];

describe('verb state machine', () => {
  const rows = VERB_NAMES.flatMap((verb) =>
    LIFECYCLES.map((from) => ({ verb, from, legal: LEGAL.find((l) => l[0] === verb && l[1] === from) })),
  );

  it.each(rows)('$verb from $from', ({ verb, from, legal }) => {
    if (!legal) {
      expect(() => decideVerb(verb, from, ALL)).toThrow(expect.objectContaining({ code: 'vm_verb_0001' }));
      return;
    }
    const d = decideVerb(verb, from, ALL);
    expect(d.op).toBe(legal[2]);
    expect(d.transition.to).toBe(legal[3]);
  });

  it('refuses a verb the cloud cannot do with a not-implemented error', () => {
    expect(() => decideVerb('quiesce', 'active', new Set())).toThrow(
      expect.objectContaining({ code: 'iaas_verb_1001' }),
    );
    // an update needs at least a way to record the spec on the VM
    expect(() => decideVerb('update', 'active', new Set(['rebuild', 'resize']))).toThrow(
      expect.objectContaining({ code: 'iaas_verb_1001' }),
    );
    expect(decideVerb('scrub', 'quiesced', new Set()).op).toBeNull(); // already stopped: nothing to ask the cloud
  });

  it('records who did it, and when a scrubbed VM goes', () => {
    const scrub = decideVerb('scrub', 'active', ALL);
    expect(lifecycleAfter(scrub, 1000, 'ops', 60_000)).toEqual({
      state: 'scrubbing',
      since: 1000,
      by: 'ops',
      deleteAt: 61_000,
    });
    expect(lifecycleAfter(decideVerb('restore', 'scrubbing', ALL), 2000, 'ops', 60_000)).toBeUndefined();
  });
});
