import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { aptInstall } from './apt.js';
import { freePort } from './ports.js';

/** Servers tried before starting one: the environment's, then a local trust-auth server. */
const CANDIDATES = [
  process.env.VMSHEPHERD_TEST_PG_URL,
  'postgres://postgres@127.0.0.1:5432/test',
  'postgres://postgres@127.0.0.1:5432/postgres',
].filter((u): u is string => Boolean(u));

export async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

/** The first reachable candidate server, or null. */
export async function findPostgres(): Promise<string | null> {
  for (const url of CANDIDATES) if (await canConnect(url)) return url;
  return null;
}

export interface PostgresCluster {
  url: string;
  port: number;
  stop(): void;
  start(): void;
  /** Stops the server (fast: connections are cut) and removes its files. */
  destroy(): void;
}

/** Debian's server binaries, installed when missing. */
export function postgresBin(): string {
  const find = () => {
    const base = '/usr/lib/postgresql';
    if (!existsSync(base)) return null;
    const versions = readdirSync(base)
      .filter((v) => existsSync(join(base, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    return versions[0] ? join(base, versions[0], 'bin') : null;
  };
  const found = find();
  if (found) return found;
  aptInstall(['postgresql'], 'the PostgreSQL runtime tests need a PostgreSQL server');
  const installed = find();
  if (!installed)
    throw new Error('postgresql was installed but no initdb was found under /usr/lib/postgresql');
  return installed;
}

/**
 * A throwaway cluster on 127.0.0.1 and a free port, with trust authentication, in a temporary directory.
 * initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
 */
export async function startPostgresCluster(): Promise<PostgresCluster> {
  const bin = postgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-pg-'));
  const asRoot = process.getuid?.() === 0;
  const run = (tool: string, args: string[]) =>
    asRoot
      ? execFileSync('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], {
          stdio: 'pipe',
          cwd: '/',
        })
      : execFileSync(join(bin, tool), args, { stdio: 'pipe' });
  if (asRoot) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
    chownSync(dir, uid, gid);
  }
  const data = join(dir, 'data');
  run('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const log = join(dir, 'server.log');
  const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
  const start = () => {
    try {
      run('pg_ctl', ['-D', data, '-o', opts, '-l', log, '-w', '-t', '60', 'start']);
    } catch (err) {
      const text = existsSync(log) ? readFileSync(log, 'utf8').slice(-2000) : '';
      throw new Error(`PostgreSQL test cluster did not start: ${(err as Error).message}\n${text}`);
    }
  };
  const stop = () => run('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
  start();
  run('createdb', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', 'test']);
  return {
    url: `postgres://postgres@127.0.0.1:${port}/test`,
    port,
    start,
    stop,
    destroy: () => {
      try {
        stop();
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
