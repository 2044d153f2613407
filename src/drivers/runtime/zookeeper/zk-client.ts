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

/** The library's connection manager: private, so typed here for the few members this file repairs. */
interface ConnectionManager {
  socket?: { destroy(): void };
  pendingBuffer: Buffer | null;
  onSocketData(buffer: Buffer): void;
  onSocketConnected(): void;
}

/**
 * One ZooKeeper session that is replaced when it expires, with promises and a timeout per request.
 * `onExpired` runs when a session ends: every ephemeral node (lease) it held is gone.
 */
export class ZkConnection {
  private client!: zookeeper.Client;
  private connected!: Promise<void>;
  private closed = false;
  /** Since when requests of the current client went unanswered; undefined once anything is answered. */
  private silentSince: number | undefined;
  /** Runs out session_timeout after a lost connection that was not resumed. */
  private stale: NodeJS.Timeout | undefined;
  /** Whether the current client ever had a session (a first connection that never completes had none). */
  private sessionUp = false;
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
    this.contain(client);
    this.connected = new Promise((resolve) => client.once('connected', () => resolve()));
    this.connected.catch(() => {});
    this.silentSince = undefined;
    this.sessionUp = false;
    client.on('disconnected', () => {
      if (this.closed || this.client !== client) return;
      this.logger.warn({ code: 'zookeeper_call_2001' }, 'ZooKeeper connection lost; reconnecting');
      // The server ends the session once this long has passed without a connection; a client that cannot
      // resume it (e.g. a server restored from an older snapshot refuses it) would otherwise retry forever.
      // Counted from the first loss: a client retrying a refused reconnection reports it again and again.
      if (this.stale) return;
      this.stale = setTimeout(
        () => this.replace(client, 'session not resumed within session_timeout'),
        this.o.session_timeout * 1000,
      );
      this.stale.unref();
    });
    client.on('connected', () => {
      this.silentSince = undefined;
      this.sessionUp = true;
      clearTimeout(this.stale);
      this.stale = undefined;
    });
    client.once('expired', () => this.replace(client, 'session expired'));
    client.on('state', (state) => this.logger.debug({ zk_state: String(state) }, 'ZooKeeper state'));
    client.connect();
    this.client = client;
  }

  /**
   * node-zookeeper-client parses replies in a socket 'data' handler: an exception there (a reply it cannot
   * decode, e.g. an unknown error code) is uncaught and kills the process. And it keeps the unparsed rest
   * of a socket's bytes across reconnections, so after a connection dropped mid-reply the next connection's
   * replies are read shifted by those stale bytes (how `Unknown code: -821690359` came after a partition).
   * Both are repaired on this client's connection manager: stale bytes are dropped with their socket, and
   * a reply that cannot be read gives the whole session up (no later reply of that stream can be trusted).
   */
  private contain(client: zookeeper.Client): void {
    const cm = (client as unknown as { connectionManager: ConnectionManager }).connectionManager;
    const onData = cm.onSocketData.bind(cm);
    const onConnected = cm.onSocketConnected.bind(cm);
    cm.onSocketConnected = () => {
      cm.pendingBuffer = null;
      onConnected();
    };
    cm.onSocketData = (buffer: Buffer) => {
      try {
        onData(buffer);
      } catch (err) {
        cm.pendingBuffer = null;
        cm.socket?.destroy();
        this.logger.error(
          { err, code: 'zookeeper_client_2001' },
          'ZooKeeper client could not read a reply; dropping its session',
        );
        // Not from inside the library's handler: it is still unwinding.
        setImmediate(() => this.replace(client, 'sent a reply the client could not read'));
      }
    };
  }

  /** Gives up a session: its leases are lost either way, and a new client starts from a clean connection. */
  private replace(client: zookeeper.Client, why: string): void {
    clearTimeout(this.stale);
    this.stale = undefined;
    if (this.closed || this.client !== client) return;
    const lost = this.sessionUp ? 'its leases are lost; new session' : 'new connection';
    this.logger.warn({ code: 'zookeeper_call_2001' }, `ZooKeeper ${why}: ${lost}`);
    this.onExpired();
    client.close();
    this.open();
  }

  /**
   * A request went unanswered. The library has no read timeout: a connection (or a connection attempt) the
   * server stopped answering would be kept forever, failing every call. When nothing sent for
   * session_timeout has been answered, the server has given up the session too: a new one is started.
   */
  private unanswered(client: zookeeper.Client, sentAt: number): void {
    if (this.client !== client) return;
    this.silentSince ??= sentAt;
    if (Date.now() - this.silentSince < this.o.session_timeout * 1000) return;
    this.replace(client, 'answered nothing within session_timeout');
  }

  /** Runs one request; rejects with the ZooKeeper exception, or `zookeeper_call_2001` on timeout. */
  async call<T>(
    what: string,
    fn: (client: zookeeper.Client, done: (err: unknown, value?: T) => void) => void,
  ): Promise<T> {
    const ms = this.o.request_timeout * 1000;
    const client = this.client;
    const sentAt = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        this.unanswered(client, sentAt);
        reject(
          new ShepherdError('zookeeper_call_2001', `${what}: no answer within ${this.o.request_timeout} s`),
        );
      }, ms);
    });
    try {
      return await Promise.race([
        this.connected.then(() => {
          // Never queue behind a lost connection: the client would send every queued request at once
          // on reconnection, long after its caller gave up, and a restarted server drowns in them.
          if (client.getState() !== zookeeper.State.SYNC_CONNECTED) {
            throw new ShepherdError('zookeeper_call_2001', `${what}: not connected`);
          }
          return new Promise<T>((resolve, reject) =>
            fn(client, (err, value) => {
              if (this.client === client) this.silentSince = undefined;
              if (err) reject(err);
              else resolve(value as T);
            }),
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
