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
async function connect(sessionTimeout: number): Promise<{
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
    session_timeout: sessionTimeout,
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
    const { zk, warnings, lost, ping } = await connect(2);
    await waitFor('first answer', ping, 20_000);
    const [lostBefore, warnedBefore] = [lost(), warnings.length];
    // A frozen server keeps its connections open: no disconnect is ever seen, only unanswered requests.
    zk.pause();
    cleanups.push(() => zk.resume());
    await waitFor('requests unanswered', async () => !(await ping()), 10_000, 100);
    const givenUp = async () => {
      await ping();
      return lost() > lostBefore;
    };
    await waitFor('the session given up', givenUp, 15_000, 100);
    expect(warnings.slice(warnedBefore)).toContain(
      'ZooKeeper answered nothing within session_timeout: its leases are lost; new session',
    );
    zk.resume();
    await waitFor('answers after the server runs again', ping, 30_000, 100);
  }, 90_000);

  it('keeps a session whose requests are answered, however long it was idle', async () => {
    // A longer session: the server must not end it on a loaded machine while the test idles.
    const { warnings, lost, ping } = await connect(4);
    await waitFor('first answer', ping, 20_000);
    // Counted from the first answer: on a loaded machine a first connection may itself be retried.
    const [lostBefore, warnedBefore] = [lost(), warnings.length];
    // Idle for longer than session_timeout: pings keep the session, and one answer resets the count.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await ping()).toBe(true);
    expect(lost() - lostBefore).toBe(0);
    expect(warnings.slice(warnedBefore)).toEqual([]);
  }, 60_000);
});
