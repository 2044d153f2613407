import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { gitHttpServer, gitRemote } from '../helpers/git.js';
import { gitStore, type TestGitStore } from '../helpers/git-store.js';
import { tempDir } from '../helpers/tmp.js';

const USER = 'deploy';
const TOKEN = 'tok-9f2c81e6d3b7a4f0';
const DB = 'name: db\ncount: 1\nimage: debian\n';
const codes = (errors: Error[]) => errors.map((e) => (e as { code?: string }).code);

/** Every text a secret could leak into: log lines, errors, status, and every file under clone_dir. */
function everythingShown(t: TestGitStore, errors: unknown[]): string {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (!path.includes('/objects/')) files.push(readFileSync(path, 'latin1'));
    }
  };
  walk(t.cloneDir);
  return [
    ...t.logs,
    JSON.stringify(errors),
    ...(errors as Error[]).map((e) => `${e.message} ${String((e as { cause?: unknown }).cause)}`),
    JSON.stringify(t.store.status()),
    ...files,
  ].join('\n');
}

describe('GitRepoDriver credentials (git http-backend with Basic authentication on 127.0.0.1)', () => {
  afterEach(() => {
    delete process.env.VMS_TEST_PRESETS_TOKEN;
  });

  async function served() {
    const remote = gitRemote();
    const commit = remote.commit({ 'db.conf': DB });
    const server = await gitHttpServer(remote.root, { username: USER, password: TOKEN });
    return { remote, commit, server, url: `${server.url}/presets.git` };
  }

  it('authenticates with a token from an environment variable, never shown anywhere', async () => {
    const { commit, server, url } = await served();
    process.env.VMS_TEST_PRESETS_TOKEN = TOKEN;
    const t = await gitStore({
      repositories: { team: { url, token_env: 'VMS_TEST_PRESETS_TOKEN', username: USER } },
    });
    const { sources, errors } = await t.store.load();
    expect(errors).toEqual([]);
    expect(sources.map((s) => s.revision)).toEqual([commit]);
    // The server saw the token (so it was really used), through the credential helper, not the URL.
    expect(server.requests.some((r) => r.includes(Buffer.from(`${USER}:${TOKEN}`).toString('base64')))).toBe(
      true,
    );
    expect(server.requests.every((r) => !r.includes(TOKEN))).toBe(true);
    expect(everythingShown(t, errors)).not.toContain(TOKEN);
    await t.store.close();
    await server.close();
  });

  it('reports refused credentials with their code, without the secret', async () => {
    const { server, url } = await served();
    process.env.VMS_TEST_PRESETS_TOKEN = `${TOKEN}-wrong`;
    const t = await gitStore({
      repositories: { team: { url, token_env: 'VMS_TEST_PRESETS_TOKEN', username: USER } },
    });
    const { sources, errors } = await t.store.load();
    expect(sources).toEqual([]);
    expect(codes(errors)).toEqual(['git_fetch_0001']);
    expect(errors[0]?.message).toContain(`team (${url})`);
    expect(everythingShown(t, errors)).not.toContain(TOKEN);
    await t.store.close();
    await server.close();
  });

  it('reports a token variable that is not set', async () => {
    const { server, url } = await served();
    const t = await gitStore({ repositories: { team: { url, token_env: 'VMS_TEST_PRESETS_TOKEN' } } });
    const { errors } = await t.store.load();
    expect(codes(errors)).toEqual(['git_fetch_1001']);
    expect(errors[0]?.message).toContain('VMS_TEST_PRESETS_TOKEN is not set');
    await t.store.close();
    await server.close();
  });

  it('takes a password written in the URL (as the original allowed) and hides it', async () => {
    const { commit, server, url } = await served();
    const withPassword = url.replace('http://', `http://${USER}:${TOKEN}@`);
    const t = await gitStore({ repositories: { team: withPassword } });
    const { sources, errors } = await t.store.load();
    expect(errors).toEqual([]);
    expect(sources.map((s) => s.revision)).toEqual([commit]);
    expect(t.store.status()[0]?.url).toBe(url.replace('http://', `http://${USER}:***@`));
    expect(everythingShown(t, errors)).not.toContain(TOKEN);
    await t.store.close();

    // The same URL with a wrong password: refused, and still nothing shows the password.
    const wrong = await gitStore({ repositories: { team: withPassword.replace(TOKEN, `${TOKEN}x`) } });
    const failed = await wrong.store.load();
    expect(codes(failed.errors)).toEqual(['git_fetch_0001']);
    expect(everythingShown(wrong, failed.errors)).not.toContain(TOKEN);
    await wrong.store.close();
    await server.close();
  });

  it('uses a git credential helper', async () => {
    const { commit, server, url } = await served();
    const dir = tempDir();
    const file = join(dir, 'git-credentials');
    writeFileSync(
      file,
      `${url.replace('http://', `http://${USER}:${TOKEN}@`).replace('/presets.git', '')}\n`,
    );
    const t = await gitStore({ repositories: { team: url }, credential_helper: `store --file=${file}` });
    const { sources, errors } = await t.store.load();
    expect(errors).toEqual([]);
    expect(sources.map((s) => s.revision)).toEqual([commit]);
    expect(everythingShown(t, errors)).not.toContain(TOKEN);
    await t.store.close();
    await server.close();
  });

  it('fetches several repositories at once, never two fetches of one clone', async () => {
    const remotes = ['a', 'b', 'c'].map((name) => {
      const r = gitRemote(name);
      r.commit({ 'db.conf': DB });
      return r;
    });
    // One server root holding the three repositories; each request is held 150 ms.
    const root = remotes[0]!.root;
    for (const r of remotes.slice(1)) {
      execFileSync('git', ['clone', '--quiet', '--bare', r.bare, join(root, `${r.name}.git`)]);
    }
    const server = await gitHttpServer(root, undefined, 150);
    const repositories = Object.fromEntries(remotes.map((r) => [r.name, `${server.url}/${r.name}.git`]));
    const t = await gitStore({ repositories, fetch_concurrency: 3, refresh_interval: 3600 });
    await t.store.load();
    expect(server.maxInFlight()).toBeGreaterThan(1);

    // Many refreshes of one repository at once are one fetch.
    const before = server.requests.length;
    const a = t.store.repositories.find((r) => r.config.key === 'a')!;
    await Promise.all([a.refresh(), a.refresh(), a.refresh(), a.refresh()]);
    const oneFetch = server.requests.length - before;
    const again = server.requests.length;
    await a.refresh();
    expect(server.requests.length - again).toBe(oneFetch);
    await t.store.close();

    // A bound of one fetch at a time is kept.
    const s2 = await gitHttpServer(root, undefined, 100);
    const serialRepos = Object.fromEntries(remotes.map((r) => [r.name, `${s2.url}/${r.name}.git`]));
    const serial = await gitStore({ repositories: serialRepos, fetch_concurrency: 1 });
    expect((await serial.store.load()).errors).toEqual([]);
    expect(s2.maxInFlight()).toBe(1);
    await serial.store.close();
    await s2.close();

    // Two stores over one clone_dir (a reload builds the new one before closing the old): their fetches
    // of one clone wait for each other instead of failing on git's locks.
    const shared = tempDir();
    const one = await gitStore({ repositories, refresh_interval: 3600 }, shared);
    const two = await gitStore({ repositories, refresh_interval: 3600 }, shared);
    await Promise.all([one.store.refreshAll(), two.store.refreshAll(), one.store.refreshAll()]);
    expect((await one.store.load()).errors).toEqual([]);
    expect((await two.store.load()).errors).toEqual([]);
    await one.store.close();
    await two.store.close();
    await server.close();
  });

  it('stops a fetch that stays silent longer than timeout, and reports it', async () => {
    const remote = gitRemote();
    remote.commit({ 'db.conf': DB });
    const server = await gitHttpServer(remote.root, undefined, 5000);
    const t = await gitStore({ repositories: { team: `${server.url}/presets.git` }, timeout: 0.5 });
    // Had the fetch waited for the server (5 s), it would have succeeded: the error is the timeout's.
    const { errors } = await t.store.load();
    expect(codes(errors)).toEqual(['git_fetch_2001']);
    await t.store.close();
    await server.close();
  });
});
