// `npm run bench`: every benchmark that needs no external service, one after another.
import { spawnSync } from 'node:child_process';

// Each suite also has its own npm script (bench:git, ...) for running it alone with options.
const suites = [
  ['bench/core.js', ...process.argv.slice(2)],
  ['bench/rollout.js'],
  ['bench/git.js'],
  ['bench/http.js'],
];
let failed = 0;
for (const [script, ...args] of suites) {
  console.log(`== ${script}`);
  const r = spawnSync(process.execPath, ['--expose-gc', script, ...args], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
