import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { zookeeperOptionsSchema } from '../../src/drivers/runtime/zookeeper/options.js';
import { ZkConnection } from '../../src/drivers/runtime/zookeeper/zk-client.js';
import { waitFor } from '../helpers/fleet.js';
import { startZookeeper, type ZookeeperServer } from '../helpers/zookeeper-server.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/** A connection to a private server (tests here freeze it), with its warnings and session losses. */
async function connect(): Promise<{
  zk: ZookeeperServer;
  conn: ZkConnection;
  warnings: string[];
  lost: () => number;
  ping: () => Promise<boolean>;
}> {
  const zk = await startZookeeper();
  cleanups.push(() => zk.destroy());
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void warnings.push(JSON.parse(s).msg) });
  let lost = 0;
  const options = zookeeperOptionsSchema.parse({
    servers: zk.servers,
    session_timeout: 2,
    request_timeout: 1,
  });
  const conn = new ZkConnection(options, logger, () => lost++);
  cleanups.push(() => conn.close());
  const ping = () =>
    conn
      .call<unknown>('exists', (c, done) => c.exists('/', done))
      .then(
        () => true,
        () => false,
      );
  return { zk, conn, warnings, lost: () => lost, ping };
}

describe('ZkConnection against a server that stops answering', () => {
  it('gives the session up after session_timeout without answers, and works again when the server does', async () => {
    const { zk, warnings, lost, ping } = await connect();
    await waitFor('first answer', ping, 20_000);
    // A frozen server keeps its connections open: no disconnect is ever seen, only unanswered requests.
    zk.pause();
    cleanups.push(() => zk.resume());
    expect(await ping()).toBe(false);
    const givenUp = async () => {
      await ping();
      return lost() > 0;
    };
    await waitFor('the session given up', givenUp, 15_000, 100);
    expect(warnings.some((w) => w.includes('answered nothing within session_timeout'))).toBe(true);
    zk.resume();
    await waitFor('answers after the server runs again', ping, 30_000, 100);
  }, 90_000);

  it('keeps a session whose requests are answered, however long it was idle', async () => {
    const { warnings, lost, ping } = await connect();
    await waitFor('first answer', ping, 20_000);
    // Idle for longer than session_timeout: pings keep the session, and one answer resets the count.
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await ping()).toBe(true);
    expect(lost()).toBe(0);
    expect(warnings).toEqual([]);
  }, 60_000);
});
