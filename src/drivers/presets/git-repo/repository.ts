import { join } from 'node:path';
import type PQueue from 'p-queue';
import type { Logger } from 'pino';
import { asShepherdError, ShepherdError } from '../../../errors/shepherd-error.js';
import type { PresetSource } from '../../types.js';
import { presetTooLarge } from '../preset-too-large.js';
import { withCloneLock } from './clone-lock.js';
import { type GitAccess, gitAccess } from './credentials.js';
import { fingerprint, type TreeFingerprint } from './file-revisions.js';
import { GitClient, GOOD_REF } from './git-client.js';
import { judgeCommit, type PresetFile } from './judge-commit.js';
import type { RepoConfig } from './options.js';
import { redact } from './redact.js';
import { presetFiles, Snapshots } from './snapshots.js';

/** The commit a repository's presets are served from. */
interface Served {
  commit: string;
  dir: string;
  files: PresetFile[];
  fingerprint: TreeFingerprint;
}

export interface RepositoryDeps {
  cloneDir: string;
  extensions: string[];
  logger: Logger;
  env: NodeJS.ProcessEnv;
  /** Bounds the fetches of all repositories of the store. */
  queue: PQueue;
  signal: AbortSignal;
  /** Called when the served commit changed (or a problem appeared or went away). */
  changed: () => void;
}

/** What a repository reports about itself (for logs, the API and benchmarks). */
export interface RepositoryStatus {
  key: string;
  url: string;
  ref: string;
  path: string;
  /** The commit whose presets are managed (the last good one), if any. */
  commit?: string;
  /** Epoch ms of the last fetch attempt that completed (success or failure). */
  lastFetchAt?: number;
  problem?: ShepherdError;
}

/**
 * One preset repository: fetched on its own interval into `<clone_dir>/<key>`, each accepted commit
 * written as a snapshot, and its presets always served from the last good commit. Refreshes of one clone
 * never overlap; `sources()` never runs git.
 */
export class GitRepository {
  private served: Served | undefined;
  private problem: ShepherdError | undefined;
  /** The last commit judged garbage, and why: not judged again while the remote stays there. */
  private refused: { commit: string; problem: ShepherdError } | undefined;
  private inflight: Promise<void> | undefined;
  private timer: NodeJS.Timeout | undefined;
  private lastFetchAt: number | undefined;
  private readonly gitDir: string;
  private readonly snapshots: Snapshots;
  private access: GitAccess | undefined;

  constructor(
    readonly config: RepoConfig,
    private readonly deps: RepositoryDeps,
  ) {
    this.gitDir = join(deps.cloneDir, config.key);
    this.snapshots = new Snapshots(join(deps.cloneDir, `${config.key}.trees`));
  }

  /** Serves the last good commit kept on disk (so a restart with an unreachable server loses nothing). */
  async restore(): Promise<void> {
    await withCloneLock(this.gitDir, async () => {
      try {
        const client = await this.client();
        const commit = await client.commitOf(GOOD_REF);
        if (!commit) return;
        const served = await this.prepare(client, commit);
        if ('reason' in served) return;
        this.served = served;
        await this.snapshots.prune([served.dir]);
      } catch (err) {
        this.problem = this.describe(asShepherdError(err, 'git_clone_2001'));
      }
    });
  }

  /** Fetches now, unless a fetch of this repository is already running (then waits for that one). */
  refresh(): Promise<void> {
    this.inflight ??= this.deps.queue
      .add(() => withCloneLock(this.gitDir, () => this.fetchAndJudge()))
      .then(() => undefined)
      .finally(() => {
        this.inflight = undefined;
      });
    return this.inflight;
  }

  /** Refreshes every `refresh_interval` from now on (timers do not keep the process alive). */
  schedule(): void {
    if (this.deps.signal.aborted) return;
    this.timer = setTimeout(() => {
      void this.refresh().finally(() => this.schedule());
    }, this.config.refreshIntervalMs);
    this.timer.unref();
  }

  async close(): Promise<void> {
    clearTimeout(this.timer);
    await this.inflight?.catch(() => undefined);
  }

  sources(): PresetSource[] {
    const served = this.served;
    if (!served) return [];
    const { key } = this.config;
    return served.files.map((f) => {
      const revision = served.fingerprint.revisions.get(f.name) ?? served.commit;
      // Repository, commit and path: `team@1a2b3c4d5e6f/presets/web.conf` (errors add :line:col).
      const file = `${key}@${revision.slice(0, 12)}/${f.path}`;
      const { text } = f;
      return {
        id: `${key}:${f.path}`,
        file,
        revision,
        namePrefix: `${key}.`,
        sourceRoot: served.dir,
        read: async () => {
          if (text === undefined) throw presetTooLarge(f.size, file);
          return text;
        },
      };
    });
  }

  status(): RepositoryStatus {
    const { key, ref, path } = this.config;
    return {
      key,
      url: this.access?.shownUrl ?? redact(this.config.url, []),
      ref,
      path,
      ...(this.served ? { commit: this.served.commit } : {}),
      ...(this.lastFetchAt !== undefined ? { lastFetchAt: this.lastFetchAt } : {}),
      ...(this.problem ? { problem: this.problem } : {}),
    };
  }

  errors(): ShepherdError[] {
    return this.problem ? [this.problem] : [];
  }

  private async client(): Promise<GitClient> {
    this.access = gitAccess(this.config, this.deps.env);
    return GitClient.open(this.gitDir, this.access, this.config.timeoutMs, this.deps.signal);
  }

  private async fetchAndJudge(): Promise<void> {
    if (this.deps.signal.aborted) return;
    const before = { commit: this.served?.commit, problem: this.problem?.message };
    try {
      const client = await this.client();
      const { ref, depth } = this.config;
      // Unchanged (the common case): one ls-remote, nothing fetched or written.
      const tip = /^[0-9a-f]{40}$/.test(ref) ? ref : await client.remoteCommit(ref);
      const known = tip !== undefined && (tip === this.served?.commit || tip === this.refused?.commit);
      const fetched = known ? tip : await client.fetch(ref, depth);
      if (fetched === this.served?.commit) this.problem = undefined;
      else if (fetched === this.refused?.commit) this.problem = this.refused.problem;
      else await this.judge(client, fetched);
    } catch (err) {
      if (this.deps.signal.aborted) return;
      this.problem = this.describe(asShepherdError(err, 'git_fetch_2001'));
    } finally {
      this.lastFetchAt = Date.now();
    }
    this.report(before);
  }

  private async judge(client: GitClient, commit: string): Promise<void> {
    const candidate = await this.prepare(client, commit);
    if ('reason' in candidate) {
      this.problem = this.describe(
        new ShepherdError('git_accept_1001', `commit ${commit.slice(0, 12)}: ${candidate.reason}`, {
          details: { refused: commit },
        }),
      );
      this.refused = { commit, problem: this.problem };
      return;
    }
    await client.setRef(GOOD_REF, commit);
    const previous = this.served;
    this.served = candidate;
    this.refused = undefined;
    this.problem = undefined;
    // The previous snapshot stays until the next change: the catalog may still be compiling from it.
    await this.snapshots.prune([candidate.dir, ...(previous ? [previous.dir] : [])]);
  }

  /** Writes and reads the snapshot of a commit, or says why the commit is garbage. */
  private async prepare(client: GitClient, commit: string): Promise<Served | { reason: string }> {
    const { path } = this.config;
    const dirExists = await client.hasTree(commit, path);
    const dir = dirExists ? await this.snapshots.write(client, commit, path) : '';
    const files = dirExists ? await presetFiles(dir, path, this.deps.extensions) : [];
    const verdict = judgeCommit(dirExists, path, files, this.deps.extensions);
    if (!verdict.accept) {
      if (dirExists && dir !== this.served?.dir)
        await this.snapshots.prune(this.served ? [this.served.dir] : []);
      return { reason: verdict.reason };
    }
    const entries = await client.listTree(commit, path);
    const isPreset = (p: string) => !p.includes('/') && this.deps.extensions.some((e) => p.endsWith(e));
    return {
      commit,
      dir,
      files,
      fingerprint: fingerprint(commit, entries, isPreset, this.served?.fingerprint),
    };
  }

  /** Adds what an operator needs: which repository, and which commit is still managed. */
  private describe(err: ShepherdError): ShepherdError {
    const { key } = this.config;
    const url = this.access?.shownUrl ?? key;
    const serving = this.served
      ? `still managing commit ${this.served.commit.slice(0, 12)}`
      : 'no commit of this repository is loaded yet: its presets are not managed';
    return new ShepherdError(
      err.code,
      `${key} (${url}): ${redact(err.detail ?? err.message, this.access?.secrets ?? [])}; ${serving}`,
      {
        details: {
          ...err.details,
          repository: key,
          url,
          ...(this.served ? { commit: this.served.commit } : {}),
        },
        cause: err.cause,
      },
    );
  }

  private report(before: { commit: string | undefined; problem: string | undefined }): void {
    const log = this.deps.logger.child({ repository: this.config.key });
    if (this.served?.commit !== before.commit) {
      log.info(
        { commit: this.served?.commit, previous: before.commit, presets: this.served?.files.length },
        'preset repository updated',
      );
    }
    if (this.problem && this.problem.message !== before.problem) {
      log.warn({ code: this.problem.code, error: this.problem.message }, 'preset repository problem');
    } else if (!this.problem && before.problem) {
      log.info({ commit: this.served?.commit }, 'preset repository fetched again');
    }
    if (this.served?.commit !== before.commit || this.problem?.message !== before.problem)
      this.deps.changed();
  }
}
