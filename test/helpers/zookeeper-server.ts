import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.js';
import { freePort, waitForPort } from './ports.js';

const JAR = '/usr/share/java/zookeeper.jar';

export interface ZookeeperServer {
  /** `127.0.0.1:port`, the ZookeeperDriver's `servers`. */
  servers: string;
  port: number;
  /** Where the server keeps its data: removing it while stopped makes every session unknown (expired). */
  dataDir: string;
  /** Kills the server (SIGKILL: an outage, not a shutdown) and starts it again on the same data. */
  stop(): Promise<void>;
  start(): Promise<void>;
  destroy(): Promise<void>;
  /** Freezes the server (SIGSTOP): connections stay open and nothing is answered, like a hung JVM. */
  pause(): void;
  /** Lets a paused server run again (SIGCONT). */
  resume(): void;
  /** The server's last output (about 4 kB), to show when a test fails. */
  output(): string;
}

/** Debian's ZooKeeper (Java 17 is present), installed when missing. */
function classpath(): string {
  if (!existsSync(JAR)) aptInstall(['zookeeper'], 'the ZooKeeper runtime tests need a ZooKeeper server');
  if (!existsSync(JAR)) throw new Error(`zookeeper was installed but ${JAR} is missing`);
  // The jar's manifest names its dependencies in /usr/share/java: the jar alone is the class path.
  return JAR;
}

/**
 * A standalone ZooKeeper on 127.0.0.1 and a free port with a throwaway data directory. tickTime 500 ms
 * allows session timeouts from 1 s to 10 s, so session-expiry tests stay short.
 */
export async function startZookeeper(): Promise<ZookeeperServer> {
  const cp = classpath();
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-zk-'));
  const port = await freePort();
  const cfg = join(dir, 'zoo.cfg');
  writeFileSync(
    cfg,
    [
      'tickTime=500',
      `dataDir=${join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      'maxClientCnxns=0',
      'admin.enableServer=false',
      '4lw.commands.whitelist=*',
      'forceSync=no',
      '',
    ].join('\n'),
  );
  let child: ChildProcess | undefined;
  let output = '';
  const start = async () => {
    output = '';
    const c = spawn('java', ['-Xmx256m', '-cp', cp, 'org.apache.zookeeper.server.ZooKeeperServerMain', cfg], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child = c;
    c.stdout?.on('data', (d) => {
      output = (output + d).slice(-20000);
    });
    c.stderr?.on('data', (d) => {
      output = (output + d).slice(-20000);
    });
    await waitForPort(port, 60_000, () =>
      c.exitCode !== null ? `ZooKeeper test server exited (${c.exitCode}): ${output}` : undefined,
    );
  };
  const stop = async () => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      c.once('exit', () => resolve());
      c.kill('SIGKILL');
    });
  };
  await start();
  return {
    servers: `127.0.0.1:${port}`,
    port,
    dataDir: join(dir, 'data'),
    start,
    stop,
    output: () => output,
    pause: () => void child?.kill('SIGSTOP'),
    resume: () => void child?.kill('SIGCONT'),
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
