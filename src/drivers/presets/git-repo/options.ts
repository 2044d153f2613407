import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';

const seconds = z.number().positive();
const envName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name, e.g. PRESETS_TOKEN');

/** Options a repository may set for itself; the driver-level value is the default. */
const shared = {
  refresh_interval: seconds
    .optional()
    .describe('seconds between two fetches of the repository (independent of the manage cycle)'),
  depth: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('commits fetched (shallow fetch); 0 fetches the whole history'),
  timeout: seconds.optional().describe('seconds a git command may stay silent before it is stopped'),
  ssh_key: z.string().min(1).optional().describe('private key file for ssh:// and git@host: URLs'),
  ssh_known_hosts: z.string().min(1).optional().describe('known_hosts file checked for the server key'),
  credential_helper: z
    .string()
    .min(1)
    .optional()
    .describe('git credential helper for https URLs, e.g. "store --file=/etc/vmshepherd/git-credentials"'),
  token_env: envName
    .optional()
    .describe('environment variable holding a password or token for https URLs (never put in the URL)'),
  username: z.string().min(1).optional().describe('user name sent with token_env (default x-access-token)'),
};

const repository = z
  .strictObject({
    url: z.string().min(1).describe('the repository to fetch (file://, ssh, git://, https)'),
    branch: z.string().min(1).optional().describe('branch to follow (default: the remote HEAD)'),
    ref: z.string().min(1).optional().describe('any ref or commit id to follow instead of a branch'),
    path: z
      .string()
      .min(1)
      .refine((p) => !p.split('/').includes('..'), 'a subdirectory of the repository (no ..)')
      .optional()
      .describe('subdirectory holding the preset files'),
    ...shared,
  })
  .refine((r) => !(r.branch && r.ref), { message: 'set branch or ref, not both', path: ['ref'] });

export const gitRepoOptions = z.strictObject({
  repositories: z
    .record(
      z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_.-]*$/, 'letters, digits, _ . - (used in preset names)'),
      z.union([z.string().min(1), repository]),
    )
    .describe('repository key (preset name prefix) → URL, or {url, branch, ref, path, ...}'),
  clone_dir: z
    .string()
    .min(1)
    .optional()
    .describe('where repositories are cloned (default: <tmp>/vmshepherd)'),
  extensions: z
    .array(z.string().startsWith('.'))
    .default(['.conf'])
    .describe('file name endings read (the original: .conf)'),
  fetch_concurrency: z.number().int().positive().default(4).describe('repositories fetched at once'),
  ...shared,
});

export type GitRepoOptions = z.output<typeof gitRepoOptions>;

/** One repository with every option resolved. */
export interface RepoConfig {
  key: string;
  url: string;
  /** What to fetch: `refs/heads/<branch>`, a ref or commit id, or `HEAD`. */
  ref: string;
  /** Subdirectory inside the repository, '' for the top. */
  path: string;
  refreshIntervalMs: number;
  depth: number;
  timeoutMs: number;
  sshKey?: string;
  sshKnownHosts?: string;
  credentialHelper?: string;
  tokenEnv?: string;
  username?: string;
}

export const DEFAULTS = { refreshIntervalS: 60, depth: 1, timeoutS: 60 };

/** The original's default clone directory. */
export const defaultCloneDir = () => join(tmpdir(), 'vmshepherd');

export function repoConfigs(o: GitRepoOptions, resolvePath: (p: string) => string): RepoConfig[] {
  return Object.entries(o.repositories).map(([key, value]) => {
    const r: z.output<typeof repository> = typeof value === 'string' ? { url: value } : value;
    const pick = <K extends keyof typeof shared>(k: K) => r[k] ?? o[k];
    const sshKey = pick('ssh_key');
    const sshKnownHosts = pick('ssh_known_hosts');
    const credentialHelper = pick('credential_helper');
    const tokenEnv = pick('token_env');
    const username = pick('username');
    return {
      key,
      url: r.url,
      ref: r.branch ? `refs/heads/${r.branch}` : (r.ref ?? 'HEAD'),
      path: normalizeSubdir(r.path ?? ''),
      refreshIntervalMs: (pick('refresh_interval') ?? DEFAULTS.refreshIntervalS) * 1000,
      depth: pick('depth') ?? DEFAULTS.depth,
      timeoutMs: (pick('timeout') ?? DEFAULTS.timeoutS) * 1000,
      ...(sshKey ? { sshKey: resolvePath(sshKey) } : {}),
      ...(sshKnownHosts ? { sshKnownHosts: resolvePath(sshKnownHosts) } : {}),
      ...(credentialHelper ? { credentialHelper } : {}),
      ...(tokenEnv ? { tokenEnv } : {}),
      ...(username ? { username } : {}),
    };
  });
}

/** `./presets/` → `presets` (`..` is refused by the schema). */
export function normalizeSubdir(path: string): string {
  return path
    .split('/')
    .filter((p) => p !== '' && p !== '.')
    .join('/');
}
