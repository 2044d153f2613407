import { describe, expect, it } from 'vitest';
import type { TaskStep } from '../../src/drivers/types.js';
import {
  nextStep,
  plannedSteps,
  stepEnded,
  stepInterrupted,
  taskSteps,
} from '../../src/reconcile/task-steps.js';

const step = (name: string, state: TaskStep['state']): TaskStep => ({
  name,
  state,
  at: '2026-12-04T12:00:00.000Z',
  instance: 'a',
  token: 1,
});

describe('task steps', () => {
  it('lists the steps of each operation: a stop is waited for, no operation only records', () => {
    expect(taskSteps('stop')).toEqual(['check', 'stop', 'wait stopped', 'record']);
    expect(taskSteps('reboot')).toEqual(['check', 'reboot', 'record']);
    expect(taskSteps(null)).toEqual(['check', 'record']);
  });

  it('starts with the check, then follows the recorded decision to the first step not ended', () => {
    expect(nextStep({ verb: 'scrub', steps: [] })).toBe('check');
    expect(nextStep({ verb: 'scrub', steps: [step('check', 'started')] })).toBe('check');
    const checked = {
      verb: 'scrub',
      steps: [step('check', 'started'), step('check', 'done')],
      data: { op: 'stop' },
    };
    expect(nextStep(checked)).toBe('stop');
    const stopping = { ...checked, steps: [...checked.steps, step('stop', 'started')] };
    expect(nextStep(stopping)).toBe('stop');
    expect(stepInterrupted(stopping, 'stop')).toBe(true);
    const skipped = { ...stopping, steps: [...stopping.steps, step('stop', 'skipped')] };
    expect(stepEnded(skipped, 'stop')).toBe(true);
    expect(stepInterrupted(skipped, 'stop')).toBe(false);
    expect(nextStep(skipped)).toBe('wait stopped');
    const all = {
      ...skipped,
      steps: [
        ...skipped.steps,
        step('wait stopped', 'done'),
        step('record', 'started'),
        step('record', 'done'),
      ],
    };
    expect(nextStep(all)).toBeNull();
    expect(nextStep({ verb: 'scrub', steps: [step('check', 'done')], data: { op: null } })).toBe('record');
  });

  it('gives the operator actions their fixed steps', () => {
    expect(plannedSteps({ verb: 'pause', steps: [] })).toEqual(['record']);
    expect(plannedSteps({ verb: 'resume', steps: [] })).toEqual(['record']);
    expect(plannedSteps({ verb: 'manage', steps: [] })).toEqual(['manage']);
    expect(plannedSteps({ verb: 'terminate', steps: [] })).toEqual(['check', 'terminate', 'record']);
    expect(
      nextStep({ verb: 'terminate', steps: [step('check', 'done'), step('terminate', 'started')] }),
    ).toBe('terminate');
    expect(nextStep({ verb: 'pause', steps: [step('record', 'skipped')] })).toBeNull();
  });
});
