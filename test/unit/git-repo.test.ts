import { describe, expect, it } from 'vitest';
import { gitAccess, splitUserinfo } from '../../src/drivers/presets/git-repo/credentials.js';
import { gitRepoDriver } from '../../src/drivers/presets/git-repo/driver.js';
import { fingerprint } from '../../src/drivers/presets/git-repo/file-revisions.js';
import { judgeCommit } from '../../src/drivers/presets/git-repo/judge-commit.js';
import { repoConfigs } from '../../src/drivers/presets/git-repo/options.js';
import { redact, redactUrl } from '../../src/drivers/presets/git-repo/redact.js';

const file = (name: string, text: string) => ({ path: name, name, text, size: Buffer.byteLength(text) });
const EXT = ['.conf'];

describe('a fetched commit is garbage', () => {
  it.each([
    ['the preset directory is missing', false, [], /not a directory/],
    ['there is no preset file', true, [], /no \.conf file/],
    [
      'no file is a mapping with a name',
      true,
      [file('a.conf', '{{{'), file('b.conf', '- x'), file('c.conf', 'count: 1')],
      /none of the 3/,
    ],
  ] as const)('when %s', (_, exists, files, reason) => {
    const verdict = judgeCommit(exists, 'presets', [...files], EXT);
    expect(verdict.accept).toBe(false);
    expect(verdict.accept ? '' : verdict.reason).toMatch(reason);
  });

  it('not when one file is a preset, even if the others are broken (the catalog reports those)', () => {
    expect(judgeCommit(true, '', [file('a.conf', '{{{'), file('b.conf', 'name: b\ncount: x')], EXT)).toEqual({
      accept: true,
    });
  });
});

describe('file revisions', () => {
  const isPreset = (p: string) => !p.includes('/') && p.endsWith('.conf');
  const tree = (entries: Record<string, string>) =>
    Object.entries(entries).map(([path, object]) => ({ path, object }));

  it('keep the commit a file came from while neither it nor the shared files change', () => {
    const c1 = fingerprint('c1', tree({ 'a.conf': 'A1', 'b.conf': 'B1', 'ud/x': 'X1' }), isPreset, undefined);
    const c2 = fingerprint('c2', tree({ 'a.conf': 'A2', 'b.conf': 'B1', 'ud/x': 'X1' }), isPreset, c1);
    expect(Object.fromEntries(c2.revisions)).toEqual({ 'a.conf': 'c2', 'b.conf': 'c1' });
    const c3 = fingerprint('c3', tree({ 'a.conf': 'A2', 'b.conf': 'B1', 'ud/x': 'X2' }), isPreset, c2);
    expect(Object.fromEntries(c3.revisions)).toEqual({ 'a.conf': 'c3', 'b.conf': 'c3' });
  });
});

describe('repository credentials', () => {
  it('take the password out of an https URL and give it to git through its environment only', () => {
    expect(splitUserinfo('https://bob:s%40cret@git.example.com/x.git')).toEqual({
      url: 'https://bob@git.example.com/x.git',
      username: 'bob',
      password: 's@cret',
    });
    expect(splitUserinfo('git@git.example.com:team/x.git')).toEqual({
      url: 'git@git.example.com:team/x.git',
    });
    const [repo] = repoConfigs(parse({ repositories: { t: 'https://bob:s3cret@h/x.git' } }), (p) => p);
    const access = gitAccess(repo!, {});
    expect(access.url).toBe('https://bob@h/x.git');
    expect(access.shownUrl).toBe('https://bob:***@h/x.git');
    expect(JSON.stringify(access.config)).not.toContain('s3cret');
    expect(access.env.VMSHEPHERD_GIT_PASSWORD).toBe('s3cret');
    expect(access.secrets).toEqual(['s3cret']);
  });

  it('read a token from the named variable, and build GIT_SSH_COMMAND from key files', () => {
    const [tok, ssh] = repoConfigs(
      parse({
        repositories: {
          tok: { url: 'https://h/x.git', token_env: 'T' },
          ssh: { url: 'git@h:x.git', ssh_key: "/k/it's", ssh_known_hosts: '/k/hosts' },
        },
      }),
      (p) => p,
    );
    expect(gitAccess(tok!, { T: 'abc' }).env).toMatchObject({
      VMSHEPHERD_GIT_USERNAME: 'x-access-token',
      VMSHEPHERD_GIT_PASSWORD: 'abc',
    });
    expect(() => gitAccess(tok!, {})).toThrow(/git_fetch_1001/);
    expect(gitAccess(ssh!, {}).env.GIT_SSH_COMMAND).toBe(
      "ssh -o BatchMode=yes -i '/k/it'\\''s' -o IdentitiesOnly=yes -o UserKnownHostsFile='/k/hosts' -o StrictHostKeyChecking=yes",
    );
  });

  it('are removed from any text', () => {
    expect(redactUrl("fatal: unable to access 'https://u:p4ss@h/x.git/'")).toBe(
      "fatal: unable to access 'https://u:***@h/x.git/'",
    );
    expect(redact('token tk-1 and tk%2F2', ['tk-1', 'tk/2'])).toBe('token *** and ***');
  });
});

describe('GitRepoDriver options', () => {
  it('accept the original form and per-repository settings, and refuse what cannot work', () => {
    expect(gitRepoDriver.parseOptions({ repositories: { team: 'file:///x' }, clone_dir: '/tmp/c' }).ok).toBe(
      true,
    );
    const bad = gitRepoDriver.parseOptions({
      repositories: { team: { url: 'u', branch: 'a', ref: 'b', path: '../up' }, 'bad key': 'u' },
      refresh_interval: 0,
      clone_dirr: 'x',
    });
    expect(bad.ok).toBe(false);
    const issues = bad.ok ? [] : bad.issues.map((i) => i.path.join('.'));
    expect(issues).toEqual(
      expect.arrayContaining(['repositories.team.path', 'refresh_interval', 'clone_dirr']),
    );
  });

  it('resolve branch, ref and path, with driver-level defaults', () => {
    const [a, b] = repoConfigs(
      parse({
        repositories: { a: 'u', b: { url: 'u', branch: 'main', path: './presets/', refresh_interval: 5 } },
        refresh_interval: 30,
        depth: 0,
      }),
      (p) => p,
    );
    expect(a).toMatchObject({ ref: 'HEAD', path: '', refreshIntervalMs: 30_000, depth: 0 });
    expect(b).toMatchObject({ ref: 'refs/heads/main', path: 'presets', refreshIntervalMs: 5000, depth: 0 });
  });
});

function parse(raw: Record<string, unknown>) {
  const r = gitRepoDriver.parseOptions(raw);
  if (!r.ok) throw new Error(JSON.stringify(r.issues));
  return r.value;
}
