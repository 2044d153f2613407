import { presetStoreContract } from '../../src/testing/presets-contract.js';
import { gitDaemon, gitRemote, type RunningServer } from '../helpers/git.js';
import { gitStore } from '../helpers/git-store.js';

/** The preset store contract over two transports: file:// and git:// (git daemon on 127.0.0.1). */
for (const transport of ['file', 'git-daemon'] as const) {
  presetStoreContract(`GitRepoDriver over ${transport}`, async () => {
    const remote = gitRemote();
    let daemon: RunningServer | undefined;
    if (transport === 'git-daemon') daemon = await gitDaemon(remote.root);
    const url = daemon ? `${daemon.url}/presets.git` : remote.url;
    const { store } = await gitStore({ repositories: { team: url }, refresh_interval: 3600 });
    // The store fetches on its own interval; a test asks for the fetch that would follow a push.
    const pushed = async (files: Record<string, string | null>) => {
      remote.commit(files);
      await store.refreshAll();
    };
    return {
      store,
      put: (name, text) => pushed({ [name]: text }),
      remove: (name) => pushed({ [name]: null }),
      close: async () => {
        await store.close();
        await daemon?.close();
      },
    };
  });
}
