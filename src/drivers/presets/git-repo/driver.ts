import { defineDriver } from '../../types.js';
import { zodOptions } from '../../zod-options.js';
import { defaultCloneDir, gitRepoOptions, repoConfigs } from './options.js';

/**
 * Presets from git repositories, as the original's GitRepoDriver (`repositories: {key: url}`,
 * `clone_dir`, presets named `<key>.<name>`), fetched on an interval of their own and safe against a bad
 * push: each repository keeps serving its last good commit. See docs/presets-git.md.
 */
export const gitRepoDriver = defineDriver({
  kind: 'presets',
  name: 'GitRepoDriver',
  description: 'Presets from *.conf YAML files in git repositories (one per key)',
  ...zodOptions(gitRepoOptions),
  // Imported when used (see BUILTIN_DRIVERS).
  create: async (o, ctx) => {
    const { GitRepoStore } = await import('./store.js');
    return new GitRepoStore(repoConfigs(o, ctx.resolvePath), {
      cloneDir: o.clone_dir ? ctx.resolvePath(o.clone_dir) : defaultCloneDir(),
      extensions: o.extensions,
      logger: ctx.logger,
      env: process.env,
      fetchConcurrency: o.fetch_concurrency,
    });
  },
});
