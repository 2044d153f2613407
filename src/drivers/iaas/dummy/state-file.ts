import { readFileSync } from 'node:fs';
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { SimSnapshot, SimulatedCloud } from './cloud.js';

/**
 * Keeps a simulated cloud in a JSON file so its VMs survive a restart of vmshepherd: loaded once,
 * written (atomically, by rename) shortly after each change and on close.
 */
export class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly path: string,
    private readonly cloud: SimulatedCloud,
    private readonly delayMs = 200,
  ) {}

  load(): void {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new ShepherdError('dummy_state_2001', `${this.path}: ${(err as Error).message}`, { cause: err });
    }
    let snapshot: SimSnapshot;
    try {
      snapshot = JSON.parse(text);
    } catch (err) {
      throw new ShepherdError('dummy_state_2001', `${this.path} is not valid JSON`, { cause: err });
    }
    if (snapshot.version !== 2) {
      throw new ShepherdError(
        'dummy_state_2001',
        `${this.path} has format ${snapshot.version}, expected 2 (move it away to start empty)`,
      );
    }
    this.cloud.restore(snapshot);
  }

  /** Schedules a write; several changes within the delay are written once. */
  changed(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
    this.timer.unref();
  }

  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    const snapshot = JSON.stringify(this.cloud.snapshot());
    this.writing = this.writing.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const tmp = `${this.path}.${process.pid}.tmp`;
      await writeFile(tmp, snapshot);
      await rename(tmp, this.path);
    });
    return this.writing;
  }
}
