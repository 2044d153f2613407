import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, waitForPort } from './ports.js';

const SSHD = '/usr/sbin/sshd';

/**
 * Debian's OpenSSH server, installed when missing (the tests run as root). RUNLEVEL=1 keeps the
 * package's service from being started on port 22: only the test's own sshd runs.
 */
export function ensureSshd(): void {
  if (existsSync(SSHD)) return;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
  const install = () =>
    execFileSync(
      'apt-get',
      ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=300', 'openssh-server'],
      { env, stdio: 'pipe' },
    );
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=300'], { env, stdio: 'pipe' });
    install();
  }
}

export interface TestSshd {
  port: number;
  /** Private key the server accepts, and a known_hosts file holding the server's key. */
  clientKey: string;
  knownHosts: string;
  /** A known_hosts file with another key for this server (a man in the middle). */
  wrongKnownHosts: string;
  url(path: string): string;
  close(): Promise<void>;
}

/** An sshd on 127.0.0.1 and a free port, accepting one generated key for the current user. */
export async function startSshd(): Promise<TestSshd> {
  ensureSshd();
  // Not a per-test temporary directory: sshd re-reads its config and host key for every connection,
  // for as long as the suite runs.
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-sshd-'));
  const keygen = (name: string) =>
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', join(dir, name)]);
  for (const name of ['host', 'client', 'other']) keygen(name);
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  mkdirSync('/run/sshd', { recursive: true });
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [
      'ListenAddress 127.0.0.1',
      `HostKey ${join(dir, 'host')}`,
      `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`,
      `PidFile ${join(dir, 'sshd.pid')}`,
      'StrictModes no',
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'LogLevel ERROR',
      '',
    ].join('\n'),
  );
  const child: ChildProcess = spawn(SSHD, ['-D', '-e', '-f', join(dir, 'sshd_config'), '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c) => {
    stderr += c;
  });
  await waitForPort(port, 10_000, () => (child.exitCode !== null ? `sshd exited: ${stderr}` : undefined));
  const hostKey = readFileSync(join(dir, 'host.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  const otherKey = readFileSync(join(dir, 'other.pub'), 'utf8').split(' ').slice(0, 2).join(' ');
  writeFileSync(join(dir, 'known_hosts'), `[127.0.0.1]:${port} ${hostKey}\n`);
  writeFileSync(join(dir, 'wrong_known_hosts'), `[127.0.0.1]:${port} ${otherKey}\n`);
  const user = execFileSync('id', ['-un'], { encoding: 'utf8' }).trim();
  return {
    port,
    clientKey: join(dir, 'client'),
    knownHosts: join(dir, 'known_hosts'),
    wrongKnownHosts: join(dir, 'wrong_known_hosts'),
    url: (path) => `ssh://${user}@127.0.0.1:${port}${path}`,
    close: async () => {
      await new Promise<void>((done) => {
        if (child.exitCode !== null) return done();
        child.once('exit', () => done());
        child.kill();
      });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
