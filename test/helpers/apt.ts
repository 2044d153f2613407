import { execFileSync } from 'node:child_process';

/**
 * Installs Debian packages a test service needs. Only root can; anyone else gets a clear error naming
 * the package, never a silent skip. The lock timeout lets parallel set-ups (and apt of other tools) wait.
 */
export function aptInstall(packages: string[], why: string): void {
  if (process.getuid?.() !== 0) {
    throw new Error(
      `${why}: install ${packages.join(' ')} (apt-get install ${packages.join(' ')}) or run the tests as root`,
    );
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const install = () =>
    execFileSync(
      'apt-get',
      ['install', '-y', '-q', '--no-install-recommends', '-o', 'DPkg::Lock::Timeout=600', ...packages],
      { env, stdio: 'pipe' },
    );
  try {
    install();
  } catch {
    execFileSync('apt-get', ['update', '-q', '-o', 'DPkg::Lock::Timeout=600'], { env, stdio: 'pipe' });
    install();
  }
}
