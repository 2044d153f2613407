import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The version of this package, read from its own package.json (src/ and dist/ both sit one level below
 * it). Not npm_package_version: that is the version of whatever package npm was started in, and it is
 * unset for a globally installed `vmshepherd` or a systemd unit.
 */
export const VERSION: string = (
  JSON.parse(readFileSync(fileURLToPath(new URL('../package.json', import.meta.url)), 'utf8')) as {
    version: string;
  }
).version;
