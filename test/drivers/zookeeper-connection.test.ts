import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { zookeeperOptionsSchema } from '../../src/drivers/runtime/zookeeper/options.js';
import { ZkConnection } from '../../src/drivers/runtime/zookeeper/zk-client.js';
import { waitFor } from '../helpers/fleet.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { startZookeeper, type ZookeeperServer } from '../helpers/zookeeper-server.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

/**
 * A connection to a private server (tests here freeze it), with its warnings and session losses; through
 * a proxy the test controls when `viaProxy`.
 */
async function connect(
  sessionTimeout: number,
  viaProxy = false,
): Promise<{
  zk: ZookeeperServer;
  proxy: TcpProxy | undefined;
  conn: ZkConnection;
  warnings: string[];
  lost: () => number;
  ping: () => Promise<boolean>;
}> {
  const zk = await startZookeeper();
  cleanups.push(() => zk.destroy());
  const proxy = viaProxy ? await startTcpProxy(zk.servers) : undefined;
  if (proxy) cleanups.push(() => proxy.close());
  const warnings: string[] = [];
  const logger = pino({ level: 'warn' }, { write: (s: string) => void warnings.push(JSON.parse(s).msg) });
  let lost = 0;
  const options = zookeeperOptionsSchema.parse({
    servers: proxy?.address ?? zk.servers,
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
  return { zk, proxy, conn, warnings, lost: () => lost, ping };
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

/** A frame as the server sends it: a 4-byte length, then the body. */
const int32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n, 0);
  return b;
};

describe('ZkConnection against bytes the client library cannot read', () => {
  it('survives a reply it cannot parse (no uncaught exception) and works again on a new session', async () => {
    // A long session: recovering must not wait for it to run out.
    const { proxy, warnings, lost, ping } = await connect(10, true);
    await waitFor('first answer', ping, 20_000);
    const lostBefore = lost();
    // A watch notification (xid -1) cut short after its reply header: the library reads past the frame
    // and throws inside its socket 'data' handler, which nothing of the caller's can catch.
    const header = Buffer.concat([int32(-1), Buffer.alloc(8), int32(0)]);
    proxy!.inject(Buffer.concat([int32(header.length), header]));
    await waitFor('the session replaced', async () => lost() > lostBefore, 5_000, 50);
    expect(warnings).toContain('ZooKeeper client could not read a reply; dropping its session');
    await waitFor('answers on the new session', ping, 5_000, 100);
  }, 60_000);

  it('drops the stale bytes of a connection cut mid-reply instead of reading the next one shifted', async () => {
    const { proxy, ping } = await connect(10, true);
    await waitFor('first answer', ping, 20_000);
    // The start of a 100-byte reply, then the connection drops: what follows on the next connection
    // (its connect response) was read as the rest of this frame, and the client hung or misread it.
    proxy!.inject(Buffer.concat([int32(100), Buffer.alloc(6)]));
    await new Promise((r) => setTimeout(r, 200));
    proxy!.cut();
    // Well within the session timeout (10 s): the session is resumed on the new connection.
    await waitFor('answers after reconnecting', ping, 4_000, 100);
  }, 60_000);
});
