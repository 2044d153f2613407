/**
 * The work budget of the render in progress. Rendering is synchronous, so the renderer installs its
 * budget for the duration of one render and helpers deep in value code (printing, comparing) can charge
 * it without every function taking the renderer as an argument.
 */
export interface Budget {
  /** Counts work proportional to `size` against the step limit. */
  charge(size: number): void;
  /** Refuses text longer than the output limit before it is built. */
  checkLength(length: number): void;
}

let active: Budget | undefined;

export function withBudget<T>(budget: Budget, fn: () => T): T {
  const previous = active;
  active = budget;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

export function charge(size: number): void {
  active?.charge(size);
}

export function checkLength(length: number): void {
  active?.checkLength(length);
}
