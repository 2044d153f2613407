import { execFileSync } from 'node:child_process';
import { lstatSync, symlinkSync } from 'node:fs';

/**
 * The CLI tests run the built package (bin/vmshepherd.js → dist/), so build it once before the tests.
 * The fixture plugin imports `vmshepherd` the way a published plugin does; a plugin finds it in a
 * node_modules directory above it, so the repository is linked there as node_modules/vmshepherd (the
 * link npm would make for an installed package; `npm ci` removes it, hence here and not in the tree).
 */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
  const link = 'node_modules/vmshepherd';
  try {
    lstatSync(link);
  } catch {
    symlinkSync('..', link, 'dir');
  }
}
