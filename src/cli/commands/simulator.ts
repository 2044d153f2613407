import { randomBytes } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { dummyOptionsSchema } from '../../drivers/iaas/dummy/options.js';
import { createSimulatorServer } from '../../drivers/iaas/dummy/simulator-server.js';
import { zodIssues } from '../../drivers/zod-options.js';
import { ShepherdError } from '../../errors/shepherd-error.js';
import { systemClock } from '../../util/clock.js';
import { print } from '../output.js';

export interface SimulatorFlags {
  host: string;
  port: number;
  /** DummyIaasDriver options as YAML or JSON, e.g. `{latency: 0.05, boot_time: 2}`. */
  options?: string;
  token?: string;
}

/**
 * `vmshepherd simulator`: serves one simulated cloud over HTTP until SIGTERM/SIGINT. Daemons point
 * DummyIaasDriver's `endpoint` (and `token`) at it. Prints the URL and, when it made one, the token.
 */
export async function simulatorCommand(f: SimulatorFlags): Promise<number> {
  const raw = f.options ? parseYaml(f.options) : {};
  const parsed = dummyOptionsSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const text = zodIssues(parsed.error)
      .map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`)
      .join('; ');
    throw new ShepherdError('config_load_1002', `--options: ${text}`);
  }
  if (parsed.data.endpoint)
    throw new ShepherdError('config_load_1002', '--options: a simulator has no endpoint');
  const token = f.token ?? process.env.VMSHEPHERD_SIMULATOR_TOKEN ?? randomBytes(18).toString('base64url');
  const server = await createSimulatorServer(parsed.data, systemClock, token);
  const url = await server.app.listen({ host: f.host, port: f.port });
  print(`simulator listening on ${url}`);
  if (!f.token && !process.env.VMSHEPHERD_SIMULATOR_TOKEN) print(`token: ${token}`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return new Promise<number>(() => {});
}
