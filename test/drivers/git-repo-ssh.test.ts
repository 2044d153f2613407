import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gitRemote } from '../helpers/git.js';
import { gitStore } from '../helpers/git-store.js';
import { startSshd, type TestSshd } from '../helpers/sshd.js';

const DB = 'name: db\ncount: 1\nimage: debian\n';
const codes = (errors: Error[]) => errors.map((e) => (e as { code?: string }).code);

describe('GitRepoDriver over ssh (OpenSSH server on 127.0.0.1)', () => {
  let sshd: TestSshd;
  beforeAll(async () => {
    sshd = await startSshd();
  }, 600_000);
  afterAll(async () => {
    await sshd?.close();
  });

  it('fetches with an ssh_key and checks the server key against ssh_known_hosts', async () => {
    const remote = gitRemote();
    const commit = remote.commit({ 'db.conf': DB });
    const t = await gitStore({
      repositories: {
        team: { url: sshd.url(remote.bare), ssh_key: sshd.clientKey, ssh_known_hosts: sshd.knownHosts },
      },
    });
    const { sources, errors } = await t.store.load();
    expect(errors).toEqual([]);
    expect(sources.map((s) => s.revision)).toEqual([commit]);
    await t.store.close();
  });

  it('is refused without the key, and refuses a server whose key is not the known one', async () => {
    const remote = gitRemote();
    remote.commit({ 'db.conf': DB });
    const noKey = await gitStore({
      repositories: { team: { url: sshd.url(remote.bare), ssh_known_hosts: sshd.knownHosts } },
    });
    const refused = await noKey.store.load();
    expect(refused.sources).toEqual([]);
    expect(codes(refused.errors)).toEqual(['git_fetch_0001']);
    await noKey.store.close();

    const spoofed = await gitStore({
      repositories: {
        team: { url: sshd.url(remote.bare), ssh_key: sshd.clientKey, ssh_known_hosts: sshd.wrongKnownHosts },
      },
    });
    const failed = await spoofed.store.load();
    expect(failed.sources).toEqual([]);
    expect(codes(failed.errors)).toEqual(['git_fetch_0001']);
    expect(failed.errors[0]?.message).toMatch(/host key/i);
    await spoofed.store.close();
  });
});
