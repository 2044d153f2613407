import zookeeper from 'node-zookeeper-client';
import type { Logger } from 'pino';
import { ShepherdError } from '../../../errors/shepherd-error.js';
import { serverList, type ZookeeperOptions } from './options.js';

export const { CreateMode, Exception } = zookeeper;

/** The error code of a ZooKeeper exception, or undefined for anything else. */
export function zkCode(err: unknown): number | undefined {
  return err instanceof zookeeper.Exception ? err.getCode() : undefined;
}

/** Epoch ms from a stat's 8-byte time field. */
export function statTime(buf: Buffer): number {
  return Number(buf.readBigInt64BE(0));
}

/**
 * One ZooKeeper session that is replaced when it expires, with promises and a timeout per request.
 * `onExpired` runs when a session ends: every ephemeral node (lease) it held is gone.
 */
export class ZkConnection {
  private client!: zookeeper.Client;
  private connected!: Promise<void>;
  private closed = false;
  readonly acls: zookeeper.ACL[];

  constructor(
    private readonly o: ZookeeperOptions,
    private readonly logger: Logger,
    private readonly onExpired: () => void,
  ) {
    // Typings lack the ACL constants the library has: with credentials, only the creator may touch the nodes.
    const acl = zookeeper.ACL as unknown as Record<'CREATOR_ALL_ACL' | 'OPEN_ACL_UNSAFE', zookeeper.ACL[]>;
    this.acls = o.addauth ? acl.CREATOR_ALL_ACL : acl.OPEN_ACL_UNSAFE;
    this.open();
  }

  private open(): void {
    const client = zookeeper.createClient(serverList(this.o.servers), {
      sessionTimeout: this.o.session_timeout * 1000,
      spinDelay: 200,
      // Never resend by itself: a resent create could make a second lock node.
      retries: 0,
    });
    if (this.o.addauth) client.addAuthInfo(this.o.addauth.scheme, Buffer.from(this.o.addauth.auth));
    this.connected = new Promise((resolve) => client.once('connected', () => resolve()));
    this.connected.catch(() => {});
    let stale: NodeJS.Timeout | undefined;
    const replace = (why: string) => {
      clearTimeout(stale);
      if (this.closed || this.client !== client) return;
      this.logger.warn({ code: 'zookeeper_call_2001' }, `ZooKeeper ${why}: its leases are lost; new session`);
      this.onExpired();
      client.close();
      this.open();
    };
    client.on('disconnected', () => {
      if (this.closed || this.client !== client) return;
      this.logger.warn({ code: 'zookeeper_call_2001' }, 'ZooKeeper connection lost; reconnecting');
      // The server ends the session once this long has passed without a connection; a client that cannot
      // resume it (e.g. a server restored from an older snapshot refuses it) would otherwise retry forever.
      // Counted from the first loss: a client retrying a refused reconnection reports it again and again.
      if (stale) return;
      stale = setTimeout(
        () => replace('session not resumed within session_timeout'),
        this.o.session_timeout * 1000,
      );
      stale.unref();
    });
    client.on('connected', () => {
      clearTimeout(stale);
      stale = undefined;
    });
    client.once('expired', () => replace('session expired'));
    client.connect();
    this.client = client;
  }

  /** Runs one request; rejects with the ZooKeeper exception, or `zookeeper_call_2001` on timeout. */
  async call<T>(
    what: string,
    fn: (client: zookeeper.Client, done: (err: unknown, value?: T) => void) => void,
  ): Promise<T> {
    const ms = this.o.request_timeout * 1000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new ShepherdError('zookeeper_call_2001', `${what}: no answer within ${this.o.request_timeout} s`),
          ),
        ms,
      );
    });
    try {
      return await Promise.race([
        this.connected.then(() => {
          // Never queue behind a lost connection: the client would send every queued request at once
          // on reconnection, long after its caller gave up, and a restarted server drowns in them.
          if (this.client.getState() !== zookeeper.State.SYNC_CONNECTED) {
            throw new ShepherdError('zookeeper_call_2001', `${what}: not connected`);
          }
          return new Promise<T>((resolve, reject) =>
            fn(this.client, (err, value) => (err ? reject(err) : resolve(value as T))),
          );
        }),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }
}
