import { Writable } from 'node:stream';
import { driverContext } from '../../src/daemon/driver-context.js';
import { gitRepoDriver } from '../../src/drivers/presets/git-repo/driver.js';
import type { GitRepoStore } from '../../src/drivers/presets/git-repo/store.js';
import { createLogger } from '../../src/observability/logger.js';
import { systemClock } from '../../src/util/clock.js';
import { tempDir } from './tmp.js';

export interface TestGitStore {
  store: GitRepoStore;
  /** Every log line the driver wrote, as text (to check that no secret reaches a log). */
  logs: string[];
  cloneDir: string;
}

/** A GitRepoDriver store built as the daemon builds it, with its own clone_dir unless one is given. */
export async function gitStore(options: Record<string, unknown>, dir = tempDir()): Promise<TestGitStore> {
  const logs: string[] = [];
  const logger = createLogger({
    level: 'debug',
    instance: 'test',
    pretty: false,
    destination: new Writable({
      write(chunk, _e, done) {
        logs.push(chunk.toString());
        done();
      },
    }),
  });
  const withDir = { clone_dir: `${dir}/clones`, ...options };
  const parsed = gitRepoDriver.parseOptions(withDir);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  const store = (await gitRepoDriver.create(
    parsed.value,
    driverContext(logger, systemClock, 'test', dir, 'GitRepoDriver'),
  )) as GitRepoStore;
  return { store, logs, cloneDir: String(withDir.clone_dir) };
}
