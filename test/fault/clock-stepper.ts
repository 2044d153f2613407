import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { aptInstall } from '../helpers/apt.js';

/** Debian's libfaketime: intercepts the wall clock of one process, leaving its monotonic clock alone. */
function library(): string {
  // Under the multiarch directory (x86_64-linux-gnu, aarch64-linux-gnu, ...).
  const find = () =>
    readdirSync('/usr/lib')
      .map((arch) => join('/usr/lib', arch, 'faketime', 'libfaketimeMT.so.1'))
      .find((lib) => existsSync(lib)) ?? null;
  const found = find();
  if (found) return found;
  aptInstall(['faketime'], 'the clock-step faults need libfaketime to step one instance’s wall clock');
  const installed = find();
  if (!installed) throw new Error('faketime was installed but libfaketimeMT.so.1 was not found');
  return installed;
}

/**
 * A wall clock a test steps for one process: the process runs with libfaketime, which reads the offset
 * from `file` at every clock read (no cache), so writing the file steps the clock at once. The monotonic
 * clock is left true, as a real step of the system clock (NTP, an operator's `date -s`) leaves it.
 */
export function clockStepper(file: string): { env: NodeJS.ProcessEnv; step(seconds: number): void } {
  return {
    env: {
      LD_PRELOAD: library(),
      FAKETIME_TIMESTAMP_FILE: file,
      FAKETIME_NO_CACHE: '1',
      FAKETIME_DONT_FAKE_MONOTONIC: '1',
    },
    step: (seconds) => writeFileSync(file, `${seconds >= 0 ? '+' : ''}${seconds}s\n`),
  };
}
