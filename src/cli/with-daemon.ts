import { Writable } from 'node:stream';
import { Daemon } from '../daemon/daemon.js';

/**
 * Builds a daemon for a one-shot command (plan, render) without starting it; its log lines go to
 * stderr only when they are warnings or worse, so stdout carries just the command's data.
 */
export async function withDaemon(
  configFile: string,
  fn: (daemon: Daemon) => Promise<number>,
): Promise<number> {
  const stderr = new Writable({ write: (chunk, _enc, done) => process.stderr.write(chunk, done) });
  const daemon = await Daemon.create({
    configFile,
    overrides: { logLevel: 'warn' },
    logDestination: stderr,
    pretty: false,
  });
  try {
    await daemon.refreshPresets();
    return await fn(daemon);
  } finally {
    await daemon.stop();
  }
}
