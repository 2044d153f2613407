import { describe, expect, it } from 'vitest';
import { demandCountSchema } from '../../src/config/demand-schema.js';
import { type DemandSpec, demandSpecOf } from '../../src/presets/demand-spec.js';
import { boundsAt, type DemandState, decideCount, windowOpen } from '../../src/reconcile/demand.js';

const T0 = Date.parse('2026-12-07T12:00:00Z'); // a Monday
const S = 1000;

const spec = (over: Partial<DemandSpec> = {}): DemandSpec => ({
  min: 1,
  max: 10,
  target: { prometheus: { url: 'http://127.0.0.1:9090', query: 'q', timeoutMs: 5000 }, perVm: 100 },
  schedule: [],
  cooldownMs: 60 * S,
  step: 1,
  ...over,
});

describe('decideCount', () => {
  it.each([
    // [value, expected count] from nothing stored: the value decides at once, clamped.
    [0, 1],
    [100, 1],
    [100.0000001, 1],
    [101, 2],
    [450, 5],
    [5000, 10],
  ])('value %d with no count stored gives %d', (value, count) => {
    const d = decideCount(spec(), { value }, undefined, T0);
    expect(d.count).toBe(count);
    expect(d.change).toMatchObject({ from: null, to: count, value });
    expect(d.state).toMatchObject({ count, value, valueAt: T0, changedAt: T0 });
  });

  it('scales out at once, whatever the cooldown and step', () => {
    const last: DemandState = { count: 2, changedAt: T0 - S };
    const d = decideCount(spec(), { value: 750 }, last, T0);
    expect(d.count).toBe(8);
    expect(d.change).toMatchObject({ from: 2, to: 8, value: 750 });
    expect(d.change?.reason).toContain('value 750 / per_vm 100 = 8');
  });

  it('scales in only after the demand asked for fewer VMs for the cooldown, one step at a time', () => {
    let last: DemandState = { count: 6, changedAt: T0 - 3600 * S };
    const at = (s: number) => T0 + s * S;
    let d = decideCount(spec(), { value: 150 }, last, at(0));
    expect(d).toMatchObject({ count: 6, wanted: 2, waitMs: 60 * S });
    expect(d.change).toBeUndefined();
    expect(d.explain).toContain('scale-in waits the cooldown, 60 s left');
    last = d.state;
    d = decideCount(spec(), { value: 150 }, last, at(59));
    expect(d).toMatchObject({ count: 6, waitMs: S });
    last = d.state;
    d = decideCount(spec(), { value: 150 }, last, at(60));
    expect(d.count).toBe(5);
    expect(d.change).toMatchObject({ from: 6, to: 5, value: 150 });
    expect(d.change?.reason).toContain('step 1 toward 2');
    last = d.state;
    // The next step waits a cooldown after this change.
    d = decideCount(spec(), { value: 150 }, last, at(90));
    expect(d).toMatchObject({ count: 5, waitMs: 30 * S });
    d = decideCount(spec(), { value: 150 }, d.state, at(120));
    expect(d.count).toBe(4);
  });

  it('forgets a dip that ends before the cooldown (no flapping on a noisy metric)', () => {
    let d = decideCount(spec(), { value: 150 }, { count: 6, changedAt: T0 - 3600 * S }, T0);
    expect(d.state.belowSince).toBe(T0);
    d = decideCount(spec(), { value: 600 }, d.state, T0 + 30 * S);
    expect(d.count).toBe(6);
    expect(d.state.belowSince).toBeUndefined();
    d = decideCount(spec(), { value: 150 }, d.state, T0 + 40 * S);
    expect(d).toMatchObject({ count: 6, waitMs: 60 * S });
  });

  it('moves by at most step VMs in one scale-in', () => {
    const d = decideCount(
      spec({ step: 3 }),
      { value: 0 },
      { count: 9, changedAt: T0 - 3600 * S, belowSince: T0 - 120 * S },
      T0,
    );
    expect(d.count).toBe(6);
    const e = decideCount(spec({ step: 30 }), { value: 0 }, d.state, T0 + 3600 * S);
    expect(e.count).toBe(1);
    expect(e.state.belowSince).toBeUndefined();
  });

  it('holds the last count when the query fails, and reports the condition once', () => {
    const last: DemandState = { count: 7, value: 650, valueAt: T0 - 10 * S, changedAt: T0 - 3600 * S };
    const d = decideCount(spec(), { error: 'connection refused' }, last, T0);
    expect(d).toMatchObject({ count: 7, unavailable: 'connection refused' });
    expect(d.change).toBeUndefined();
    expect(d.state).toMatchObject({ count: 7, value: 650, valueAt: T0 - 10 * S, unavailable: { since: T0 } });
    expect(d.explain).toContain('query failed (connection refused): holding 7');
    // Still failing an hour later: same count, nothing new to report.
    const e = decideCount(spec(), { error: 'connection refused' }, d.state, T0 + 3600 * S);
    expect(e).toMatchObject({ count: 7 });
    expect(e.unavailable).toBeUndefined();
    expect(e.state.unavailable).toEqual({ error: 'connection refused', since: T0 });
    // Back: the value decides again and the recovery is reported.
    const f = decideCount(spec(), { value: 650 }, e.state, T0 + 3601 * S);
    expect(f).toMatchObject({ count: 7, recovered: true });
    expect(f.state.unavailable).toBeUndefined();
  });

  it('starts at min when the query fails and no count was decided yet', () => {
    const d = decideCount(spec({ min: 3 }), { error: 'no sample' }, undefined, T0);
    expect(d).toMatchObject({ count: 3, unavailable: 'no sample' });
    expect(d.change).toMatchObject({ from: null, to: 3 });
    expect(d.change?.value).toBeUndefined();
  });

  it('without a target the count is min (of the open window)', () => {
    const { target: _t, ...noTarget } = spec({ min: 2 });
    expect(decideCount(noTarget, null, undefined, T0).count).toBe(2);
    expect(decideCount(noTarget, null, { count: 2 }, T0).change).toBeUndefined();
  });

  it('clamps a held count into bounds that changed', () => {
    const d = decideCount(spec({ max: 4 }), { error: 'timeout' }, { count: 7, belowSince: T0 - 120 * S }, T0);
    expect(d.wanted).toBe(4);
    expect(d.count).toBe(6); // a decrease still moves by step
  });
});

describe('schedule windows', () => {
  // Business hours in Warsaw (UTC+1 in December): 08:00-18:00 local on weekdays.
  const office = {
    cron: '0 8 * * 1-5',
    timezone: 'Europe/Warsaw',
    durationMs: 10 * 3600 * S,
    min: 4,
    max: 20,
  };
  const at = (iso: string) => Date.parse(iso);

  it.each([
    ['2026-12-07T06:59:59Z', false], // 07:59:59 Warsaw, Monday
    ['2026-12-07T07:00:00Z', true], // 08:00 Warsaw
    ['2026-12-07T16:59:59Z', true],
    ['2026-12-07T17:00:00Z', false], // 18:00 Warsaw: closed
    ['2026-12-05T10:00:00Z', false], // Saturday
  ])('at %s the window is open: %s', (iso, open) => {
    expect(windowOpen(office, at(iso))).toBe(open);
  });

  it("the open window's bounds replace min and max; several open: the highest of each", () => {
    const night = { cron: '0 0 * * *', timezone: 'UTC', durationMs: 24 * 3600 * S, min: 2, max: 30 };
    const s = spec({ schedule: [office, night] });
    expect(boundsAt(s, at('2026-12-07T12:00:00Z'))).toEqual({
      min: 4,
      max: 30,
      windows: ['0 8 * * 1-5 (Europe/Warsaw)', '0 0 * * * (UTC)'],
    });
    expect(boundsAt(spec({ schedule: [office] }), at('2026-12-05T12:00:00Z'))).toEqual({
      min: 1,
      max: 10,
      windows: [],
    });
  });

  it('a window raising min scales out at once, and its end scales in after the cooldown', () => {
    const s = spec({ schedule: [office] });
    const open = decideCount(s, { value: 50 }, { count: 1 }, at('2026-12-07T07:00:00Z'));
    expect(open.count).toBe(4);
    expect(open.explain).toContain('window 0 8 * * 1-5 (Europe/Warsaw) open');
    const closed = decideCount(s, { value: 50 }, open.state, at('2026-12-07T17:00:00Z'));
    expect(closed).toMatchObject({ count: 4, wanted: 1, waitMs: 60 * S });
    expect(decideCount(s, { value: 50 }, closed.state, at('2026-12-07T17:01:00Z')).count).toBe(3);
  });
});

describe('count schema', () => {
  it('requires the time zone of a window and checks cron and zone', () => {
    const base = { min: 1, max: 3 };
    const window = { cron: '0 8 * * *', duration: 3600, min: 1, max: 2 };
    expect(demandCountSchema.safeParse({ ...base, schedule: [window] }).success).toBe(false);
    expect(
      demandCountSchema.safeParse({ ...base, schedule: [{ ...window, timezone: 'Mars/Olympus' }] }).success,
    ).toBe(false);
    expect(
      demandCountSchema.safeParse({ ...base, schedule: [{ ...window, cron: 'every day', timezone: 'UTC' }] })
        .success,
    ).toBe(false);
    expect(demandCountSchema.safeParse({ min: 4, max: 3 }).success).toBe(false);
    const ok = demandCountSchema.parse({ ...base, schedule: [{ ...window, timezone: 'UTC' }] });
    expect(demandSpecOf(ok)).toEqual({
      min: 1,
      max: 3,
      schedule: [{ cron: '0 8 * * *', timezone: 'UTC', durationMs: 3600 * S, min: 1, max: 2 }],
      cooldownMs: 300 * S,
      step: 1,
    });
  });
});
