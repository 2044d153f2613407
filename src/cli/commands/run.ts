import type { FastifyInstance } from 'fastify';
import type { ConfigOverrides, ShepherdConfig } from '../../config/load-config.js';
import { Daemon } from '../../daemon/daemon.js';
import { startServer } from '../../http/server.js';
import { applyDaemonV8Flags } from '../heap-flags.js';

/**
 * `vmshepherd -c FILE`: runs the daemon. SIGHUP reloads the configuration and presets (a broken one is
 * rejected and the running one kept); SIGTERM or SIGINT finishes the calls in flight, releases the
 * leases and exits 0; a second signal exits at once.
 */
export async function runCommand(
  configFile: string,
  overrides: ConfigOverrides,
  runOnce: boolean,
): Promise<number> {
  const daemon = await Daemon.create({ configFile, overrides });
  applyDaemonV8Flags(daemon.config.manage.heap_growth);
  if (runOnce) {
    const summary = await daemon.runOnce();
    await daemon.stop();
    return summary.failed > 0 ? 1 : 0;
  }
  let stopping = false;
  let server: FastifyInstance | undefined;
  const stop = (signal: string) => {
    if (stopping) {
      daemon.logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    daemon.logger.info({ signal }, 'stopping: finishing calls in flight');
    void (server?.close() ?? Promise.resolve())
      .then(() => daemon.stop())
      .then(
        () => process.exit(0),
        (err) => {
          daemon.logger.error({ err, code: 'cli_run_1001' }, 'stop failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGHUP', () => {
    daemon.logger.info('SIGHUP: reloading configuration and presets');
    const before = daemon.config.http;
    void daemon.reload().then(async (reloaded) => {
      if (reloaded) applyDaemonV8Flags(daemon.config.manage.heap_growth);
      if (!reloaded || stopping || sameAddress(before, daemon.config.http)) return;
      server = await moveServer(daemon, server);
    });
  });
  try {
    // The panel and API serve as soon as the daemon is built; pages fill in as presets are managed.
    if (daemon.config.http.enabled) server = await startServer(daemon);
    await daemon.start();
  } catch (err) {
    // A daemon that cannot start must not linger: its runtime session (ZooKeeper keeps the process
    // alive, and its leases held) and drivers are closed, and the caller exits non-zero.
    stopping = true;
    await server?.close().catch(() => {});
    await daemon
      .stop()
      .catch((e) =>
        daemon.logger.error({ err: e, code: 'cli_run_1001' }, 'stop after a failed start failed'),
      );
    throw err;
  }
  return new Promise<number>(() => {}); // runs until a signal ends the process
}

type HttpSettings = ShepherdConfig['http'];

const sameAddress = (a: HttpSettings, b: HttpSettings) =>
  a.enabled === b.enabled && a.host === b.host && a.listenPort === b.listenPort;

/**
 * The reloaded configuration moved the server: listen on the new address first and close the old
 * server only then, so a port already taken leaves the panel where it was (and says so) rather than gone.
 */
async function moveServer(
  daemon: Daemon,
  old: FastifyInstance | undefined,
): Promise<FastifyInstance | undefined> {
  let next: FastifyInstance | undefined;
  if (daemon.config.http.enabled) {
    try {
      next = await startServer(daemon);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'api_server_2001';
      daemon.logger.error({ code }, `HTTP server kept on its old address: ${(err as Error).message}`);
      return old;
    }
  }
  await old?.close();
  if (!next) daemon.logger.info('HTTP API and panel closed (http disabled)');
  return next;
}
