import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type SimpleGit, simpleGit } from 'simple-git';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { GitAccess } from './credentials.js';
import { redact } from './redact.js';

/** Where the fetched tip is kept, and the commit vmshepherd last accepted (kept across restarts). */
export const FETCHED_REF = 'refs/vmshepherd/fetched';
export const GOOD_REF = 'refs/vmshepherd/good';

/** GIT_* variables git may see: the usual ways to give git credentials, and ours. */
const PASSED_GIT_ENV = ['GIT_SSH_COMMAND', 'GIT_SSH', 'GIT_ASKPASS', 'GIT_TERMINAL_PROMPT', 'GIT_INDEX_FILE'];

/**
 * The part of our environment git is given: where it finds its config and ssh agent, proxies, locale.
 * Editors, pagers and the like are left out (git never needs them here, and simple-git refuses them).
 */
function gitEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (value === undefined) continue;
    if (
      PASSED_GIT_ENV.includes(name) ||
      /^(PATH|HOME|USER|LOGNAME|LANG|LC_[A-Z]+|TZ|TMPDIR|XDG_CONFIG_HOME|SSH_AUTH_SOCK)$/.test(name) ||
      /^(https?|no|all)_proxy$/i.test(name)
    )
      kept[name] = value;
  }
  return kept;
}

/**
 * The git commands of one clone, through simple-git over the system git. Every error that leaves is a
 * ShepherdError whose text went through `redact` (git prints URLs and sometimes what it was given).
 */
export class GitClient {
  private readonly git: SimpleGit;

  private constructor(
    readonly dir: string,
    private readonly access: GitAccess,
    private readonly timeoutMs: number,
    private readonly signal: AbortSignal,
  ) {
    this.git = this.instance({});
  }

  private instance(extraEnv: Record<string, string>, workTree = false): SimpleGit {
    return simpleGit({
      baseDir: this.dir,
      config: this.access.config,
      timeout: { block: this.timeoutMs },
      abort: this.signal,
      allowEnvironment: PASSED_GIT_ENV,
      // Our own settings (from the operator's configuration), never from a repository's content.
      unsafe: {
        allowUnsafeCredentialHelper: true,
        allowUnsafeSshCommand: true,
        // --work-tree: only for writeTree, to a directory of our own.
        allowUnsafeConfigPaths: workTree,
      },
    }).env({ ...gitEnvironment(process.env), ...this.access.env, ...extraEnv });
  }

  /** Opens the clone at `dir`, creating a bare repository when there is none (an existing clone is reused). */
  static async open(
    dir: string,
    access: GitAccess,
    timeoutMs: number,
    signal: AbortSignal,
  ): Promise<GitClient> {
    try {
      await mkdir(dir, { recursive: true });
      const client = new GitClient(dir, access, timeoutMs, signal);
      const isRepo = await stat(join(dir, 'HEAD'))
        .then(() => true)
        .catch(() =>
          stat(join(dir, '.git')).then(
            () => true,
            () => false,
          ),
        );
      if (!isRepo) {
        if ((await readdir(dir)).length > 0)
          throw new Error(`${dir} exists, is not empty and is not a git repository`);
        await client.git.raw(['init', '--bare', '--quiet']);
      }
      return client;
    } catch (err) {
      throw new ShepherdError('git_clone_2001', redact(messageOf(err), access.secrets), {
        cause: cleanCause(err),
        details: { dir },
      });
    }
  }

  /** Fetches `ref` (a branch ref, any ref, HEAD or a commit id) into FETCHED_REF; returns its commit. */
  async fetch(ref: string, depth: number): Promise<string> {
    const args = ['fetch', '--quiet', '--no-tags', '--no-write-fetch-head'];
    if (depth > 0) args.push(`--depth=${depth}`);
    args.push('--', this.access.url, `+${ref}:${FETCHED_REF}`);
    try {
      await this.git.raw(args);
    } catch (err) {
      throw fetchError(redact(messageOf(err), this.access.secrets), err);
    }
    return (await this.commitOf(FETCHED_REF)) as string;
  }

  /**
   * The commit the server's branch (or HEAD) points at, without fetching: one round trip, no local
   * writes. Undefined for other refs (tags, commit ids), which are fetched to be resolved.
   */
  async remoteCommit(ref: string): Promise<string | undefined> {
    if (ref !== 'HEAD' && !ref.startsWith('refs/heads/')) return undefined;
    let out: string;
    try {
      out = await this.git.raw(['ls-remote', '--', this.access.url, ref]);
    } catch (err) {
      throw fetchError(redact(messageOf(err), this.access.secrets), err);
    }
    for (const line of out.split('\n')) {
      const [commit, name] = line.split('\t');
      if (name === ref && commit) return commit;
    }
    throw fetchError(`couldn't find remote ref ${ref}`, undefined);
  }

  /** The commit a ref points at, or undefined when it does not exist. */
  async commitOf(ref: string): Promise<string | undefined> {
    try {
      return (
        (await this.git.raw(['rev-parse', '--verify', '--quiet', `${ref}^{commit}`])).trim() || undefined
      );
    } catch {
      return undefined;
    }
  }

  async setRef(ref: string, commit: string): Promise<void> {
    await this.wrap(() => this.git.raw(['update-ref', ref, commit]));
  }

  /** True when `path` ('' = the top) is a directory in `commit`. */
  async hasTree(commit: string, path: string): Promise<boolean> {
    try {
      return (await this.git.raw(['cat-file', '-t', `${commit}:${path}`])).trim() === 'tree';
    } catch {
      return false;
    }
  }

  /** Every entry under `commit:path` (recursively): its path relative to `path` and its object id. */
  async listTree(commit: string, path: string): Promise<{ path: string; object: string }[]> {
    const out = await this.wrap(() => this.git.raw(['ls-tree', '-r', '-z', `${commit}:${path}`]));
    return out
      .split('\0')
      .filter(Boolean)
      .map((line) => {
        const tab = line.indexOf('\t');
        return { path: line.slice(tab + 1), object: line.slice(0, tab).split(' ')[2] ?? '' };
      });
  }

  /**
   * Writes the files of `commit:path` into `dest` (a new directory) without touching the clone's own
   * index or working tree. Symbolic links are written as plain files holding the link text, so a
   * repository cannot point file:// userdata outside its own files.
   */
  async writeTree(commit: string, path: string, dest: string): Promise<void> {
    const index = `${dest}.index`;
    await this.wrap(async () => {
      await mkdir(dest, { recursive: true });
      const git = this.instance({ GIT_INDEX_FILE: index }, true);
      try {
        await git.raw(['read-tree', `${commit}:${path}`]);
        await git.raw([
          '-c',
          'core.symlinks=false',
          `--work-tree=${dest}`,
          'checkout-index',
          '--all',
          '--force',
        ]);
      } finally {
        await rm(index, { force: true });
      }
    });
  }

  private async wrap<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw new ShepherdError('git_clone_2001', redact(messageOf(err), this.access.secrets), {
        cause: cleanCause(err),
      });
    }
  }
}

function messageOf(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).trim();
}

/** Classifies git's complaint: refused credentials, a missing ref, or anything else (retried). */
function fetchError(text: string, cause: unknown): ShepherdError {
  const code =
    /authentication failed|permission denied|host key verification failed|could not read (username|password)|\b40[13]\b|access denied|terminal prompts disabled/i.test(
      text,
    )
      ? 'git_fetch_0001'
      : /couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i.test(text)
        ? 'git_fetch_0002'
        : 'git_fetch_2001';
  return new ShepherdError(code, summary(text), { cause: cleanCause(cause) });
}

/** The lines of git's complaint that say what happened (its last ones), without ssh's banners and boilerplate. */
function summary(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(
      (l) =>
        l !== '' &&
        !l.startsWith('@') &&
        !/^(please make sure you have the correct access rights|and the repository exists\.)$/i.test(l),
    );
  return lines.slice(-3).join(' / ');
}

/** The cause of a ShepherdError is logged: keep only its (redacted) message, never git's argument list. */
function cleanCause(cause: unknown): Error {
  return new Error(cause instanceof Error ? cause.name : 'git failed');
}
