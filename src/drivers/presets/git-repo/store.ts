import { setMaxListeners } from 'node:events';
import PQueue from 'p-queue';
import type { PresetSourceSet, PresetStore } from '../../types.js';
import type { RepoConfig } from './options.js';
import { GitRepository, type RepositoryDeps, type RepositoryStatus } from './repository.js';

export type StoreDeps = Omit<RepositoryDeps, 'queue' | 'signal' | 'changed'> & { fetchConcurrency: number };

/**
 * The presets of several git repositories. `load()` never runs git: it serves what the repositories last
 * accepted. Each repository fetches on its own `refresh_interval` (at most `fetch_concurrency` at once)
 * and tells the watchers when its commit changed. The first `load()` waits for the first fetch of each.
 */
export class GitRepoStore implements PresetStore {
  readonly repositories: GitRepository[];
  private ready: Promise<void> | undefined;
  private started = false;
  private readonly watchers = new Set<() => void>();
  private readonly stopping = new AbortController();

  constructor(configs: RepoConfig[], deps: StoreDeps) {
    const queue = new PQueue({ concurrency: deps.fetchConcurrency });
    // Every git command of every repository listens to this one signal.
    setMaxListeners(0, this.stopping.signal);
    const repositoryDeps: RepositoryDeps = {
      ...deps,
      queue,
      signal: this.stopping.signal,
      changed: () => {
        // Changes found by the first fetches are what the first load() returns: nothing to tell.
        if (!this.started) return;
        for (const watcher of this.watchers) watcher();
      },
    };
    this.repositories = configs.map((c) => new GitRepository(c, repositoryDeps));
  }

  async load(): Promise<PresetSourceSet> {
    this.ready ??= this.start();
    await this.ready;
    const sources = this.repositories.flatMap((r) => r.sources()).sort((a, b) => a.id.localeCompare(b.id));
    return { sources, errors: this.repositories.flatMap((r) => r.errors()) };
  }

  watch(onChange: () => void): () => void {
    this.watchers.add(onChange);
    return () => this.watchers.delete(onChange);
  }

  /** Fetches every repository now (each joins a fetch already running); for tests, benchmarks, the API. */
  async refreshAll(): Promise<void> {
    this.ready ??= this.start();
    await this.ready;
    await Promise.all(this.repositories.map((r) => r.refresh()));
  }

  status(): RepositoryStatus[] {
    return this.repositories.map((r) => r.status());
  }

  async close(): Promise<void> {
    this.stopping.abort();
    this.watchers.clear();
    await Promise.all(this.repositories.map((r) => r.close()));
  }

  private async start(): Promise<void> {
    await Promise.all(
      this.repositories.map(async (r) => {
        await r.restore();
        await r.refresh();
        r.schedule();
      }),
    );
    this.started = true;
  }
}
