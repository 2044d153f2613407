import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { RepoConfig } from './options.js';
import { redactUrl } from './redact.js';

/** How git is run for one repository: the URL it is given, its `-c` settings and environment. */
export interface GitAccess {
  /** The URL given to git: never with a password in it. */
  url: string;
  /** The URL for people (logs, errors, the API). */
  shownUrl: string;
  config: string[];
  env: Record<string, string>;
  /** Values that must never leave the driver (removed from every message). */
  secrets: string[];
}

const DEFAULT_TOKEN_USER = 'x-access-token';

/**
 * A credential helper that answers from two variables set only in the environment of the git process:
 * the secret is in no argument list (`ps`), no URL and no file.
 */
const ENV_HELPER =
  '!f() { test "$1" = get || exit 0; echo "username=$VMSHEPHERD_GIT_USERNAME"; echo "password=$VMSHEPHERD_GIT_PASSWORD"; }; f';

/** Builds the access of a repository from its options and the process environment. */
export function gitAccess(repo: RepoConfig, env: NodeJS.ProcessEnv): GitAccess {
  const config: string[] = [];
  const childEnv: Record<string, string> = { GIT_TERMINAL_PROMPT: '0' };
  const secrets: string[] = [];
  const { url, username: urlUser, password: urlPassword } = splitUserinfo(repo.url);

  let password = urlPassword;
  let username = urlUser;
  if (repo.tokenEnv) {
    const token = env[repo.tokenEnv];
    if (!token) {
      throw new ShepherdError('git_fetch_1001', `${repo.key}: ${repo.tokenEnv} is not set`, {
        details: { repository: repo.key, token_env: repo.tokenEnv },
      });
    }
    password = token;
    username = repo.username ?? urlUser ?? DEFAULT_TOKEN_USER;
  }
  if (password) {
    secrets.push(password);
    // Reset first: a helper from the user's git config (e.g. `store`) must not be asked to keep the secret.
    config.push('credential.helper=', `credential.helper=${ENV_HELPER}`);
    childEnv.VMSHEPHERD_GIT_USERNAME = username ?? DEFAULT_TOKEN_USER;
    childEnv.VMSHEPHERD_GIT_PASSWORD = password;
  } else if (repo.credentialHelper) {
    config.push('credential.helper=', `credential.helper=${repo.credentialHelper}`);
  }
  if (repo.sshKey || repo.sshKnownHosts) childEnv.GIT_SSH_COMMAND = sshCommand(repo);
  return {
    url,
    shownUrl: redactUrl(repo.url),
    config,
    env: childEnv,
    secrets,
  };
}

function sshCommand(repo: RepoConfig): string {
  const args = ['ssh', '-o', 'BatchMode=yes'];
  if (repo.sshKey) args.push('-i', quote(repo.sshKey), '-o', 'IdentitiesOnly=yes');
  if (repo.sshKnownHosts)
    args.push('-o', `UserKnownHostsFile=${quote(repo.sshKnownHosts)}`, '-o', 'StrictHostKeyChecking=yes');
  return args.join(' ');
}

/** Single-quotes a value for the shell git runs GIT_SSH_COMMAND with. */
function quote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/**
 * `https://user:secret@host/x.git` → the URL without the password (git gets it from the helper instead),
 * the user name and the password. Other URLs (scp-like `git@host:x`, file paths) are returned as they are.
 */
export function splitUserinfo(raw: string): { url: string; username?: string; password?: string } {
  if (!/^https?:\/\//i.test(raw)) return { url: raw };
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return { url: raw };
  }
  if (!parsed.password) return { url: raw };
  const username = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  parsed.password = '';
  return { url: parsed.toString(), ...(username ? { username } : {}), password };
}
