import { execFileSync } from 'node:child_process';

/** The CLI tests run the built package (bin/vmshepherd.js → dist/), so build it once before the tests. */
export default function setup(): void {
  execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
    stdio: 'inherit',
  });
}
