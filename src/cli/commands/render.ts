import { ShepherdError } from '../../errors/shepherd-error.js';
import { print } from '../output.js';
import { withDaemon } from '../with-daemon.js';

/** `vmshepherd render -c FILE --preset NAME`: the preset's rendered userdata, exactly as VMs get it. */
export async function renderCommand(configFile: string, preset: string): Promise<number> {
  return withDaemon(configFile, async (daemon) => {
    const p = daemon.catalog.get(preset);
    if (!p) {
      const problem = daemon.catalog.problems().find((e) => e.message.includes(preset));
      throw problem ?? new ShepherdError('cli_preset_1001', preset);
    }
    process.stdout.write(p.userdata ?? '');
    if (p.userdata && !p.userdata.endsWith('\n')) print('');
    return 0;
  });
}
