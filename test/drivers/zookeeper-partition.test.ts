import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { zookeeperOptionsSchema } from '../../src/drivers/runtime/zookeeper/options.js';
import { ZookeeperRuntime } from '../../src/drivers/runtime/zookeeper/zookeeper-runtime.js';
import { LeaseKeeper } from '../../src/reconcile/lease-keeper.js';
import { systemClock } from '../../src/util/clock.js';
import { waitFor } from '../helpers/fleet.js';
import { startTcpProxy } from '../helpers/tcp-proxy.js';
import { startZookeeper } from '../helpers/zookeeper-server.js';

let cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.reverse()) await c();
  cleanups = [];
});

const SESSION_S = 2;
/** manage_expire: far longer than the session, as in the report (10 s session, 30 s lease). */
const TTL_MS = 30_000;
const logger = pino({ level: 'silent' });

describe('a ZooKeeper lease held through a partitioned network path', () => {
  it('is lost within session_timeout (not manage_expire), before another instance takes it, and cannot save', async () => {
    const zk = await startZookeeper();
    cleanups.push(() => zk.destroy());
    const proxy = await startTcpProxy(zk.servers);
    cleanups.push(() => proxy.close());
    const runtime = (servers: string, owner: string) => {
      const o = zookeeperOptionsSchema.parse({
        servers,
        working_path: '/partition',
        session_timeout: SESSION_S,
        request_timeout: 1,
      });
      const r = new ZookeeperRuntime(o, owner, logger);
      cleanups.push(() => r.close());
      return r;
    };
    const a = runtime(zk.servers, 'a');
    const b = runtime(proxy.address, 'b');
    /** Tries until the lease is taken (another holder, or an unreachable store, makes a try fail). */
    const acquire = async (r: ZookeeperRuntime, what: string): Promise<LeaseKeeper> => {
      let keeper: LeaseKeeper | null = null;
      await waitFor(
        what,
        async () => {
          keeper = await LeaseKeeper.acquire('preset/web', TTL_MS, r, systemClock, logger).catch(() => null);
          return keeper !== null;
        },
        20_000,
        100,
      );
      return keeper as unknown as LeaseKeeper;
    };

    const keeper = await acquire(b, 'B takes the lease');
    cleanups.push(() => keeper.release());
    await b.save('web', { by: 'b', n: 1 }, keeper.current);

    const pausedAt = performance.now();
    proxy.pause();
    let lostAt = 0;
    keeper.signal.addEventListener('abort', () => {
      lostAt = performance.now();
    });
    await waitFor('B sees its lease lost', async () => keeper.signal.aborted && !keeper.valid(), 10_000, 20);
    // Within the session timeout after the last answer, i.e. at most that long after the pause (+ timer slack).
    expect(lostAt - pausedAt).toBeLessThan(SESSION_S * 1000 + 500);

    const successor = await acquire(a, 'A takes the lease over');
    const takenAt = performance.now();
    cleanups.push(() => successor.release());
    expect(lostAt).toBeGreaterThan(0);
    expect(lostAt).toBeLessThan(takenAt);
    expect(keeper.valid()).toBe(false);
    expect(() => keeper.assertValid()).toThrow(expect.objectContaining({ code: 'runtime_lease_0001' }));

    await a.save('web', { by: 'a', n: 2 }, successor.current);
    // Neither while partitioned nor once the path heals does B's save go through.
    await expect(b.save('web', { by: 'b', n: 3 }, keeper.current)).rejects.toMatchObject({
      code: 'runtime_save_0001',
    });
    proxy.resume();
    await waitFor(
      'B answered again',
      async () => (await b.load('web').catch(() => null)) !== null,
      20_000,
      100,
    );
    await expect(b.save('web', { by: 'b', n: 4 }, keeper.current)).rejects.toMatchObject({
      code: 'runtime_save_0001',
    });
    expect(await a.load('web')).toEqual({ by: 'a', n: 2 });
  }, 90_000);
});
