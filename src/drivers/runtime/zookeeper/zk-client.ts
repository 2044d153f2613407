import { setMaxListeners } from 'node:events';
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
 * What a session lets its holder trust: its leases stand while `valid()`, and `signal` aborts the moment
 * they may not (the session was lost, or nothing was answered for as long as the server keeps a silent
 * session).
 */
export interface SessionGuard {
  readonly signal: AbortSignal;
  valid(): boolean;
}

/** The part of the session timeout a holder trusts: the rest covers clock rates and the call it starts. */
const TRUSTED_SHARE = 0.9;

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
 *
 * The session is trusted until the session timeout after the *sending* of the last request it answered:
 * the server heard us no earlier than that, and ends a session it has not heard from for the timeout, so
 * that moment is never later than the server's own expiry. A heartbeat keeps it fresh while idle. When it
 * passes, the session is given up (closed and replaced) and every lease of it aborted at once.
 */
export class ZkConnection {
  private client!: zookeeper.Client;
  private connected!: Promise<void>;
  private closed = false;
  /** Monotonic ms of the sending of the last request answered in this session; undefined before any. */
  private lastHeard: number | undefined;
  /** Monotonic ms at which the current client was opened (a connection that never answers is replaced). */
  private openedAt = 0;
  /** Gives the session up when nothing was answered for the trusted part of the session timeout. */
  private deadline: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** Aborted when the current session's leases can no longer be trusted. */
  private session = new AbortController();
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

  /** The current session's guard: take it *before* sending the request that creates a lease. */
  guard(): SessionGuard {
    const { signal } = this.session;
    return {
      signal,
      // Checked synchronously too: a timer is late when the event loop is (GC, CPU starvation).
      valid: () => !signal.aborted && performance.now() < this.trustedUntil(),
    };
  }

  /** Session timeout the server granted (never longer than asked), in ms. */
  private sessionMs(): number {
    const asked = this.o.session_timeout * 1000;
    const granted = this.sessionUp ? this.client.getSessionTimeout() : asked;
    return Math.min(asked, granted > 0 ? granted : asked);
  }

  private trustedUntil(): number {
    return this.lastHeard === undefined ? 0 : this.lastHeard + this.sessionMs() * TRUSTED_SHARE;
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
    this.lastHeard = undefined;
    this.openedAt = performance.now();
    this.sessionUp = false;
    this.session = new AbortController();
    // Every lease of the session listens on this signal until released: not a leak.
    setMaxListeners(0, this.session.signal);
    client.on('disconnected', () => {
      if (this.closed || this.client !== client) return;
      // The deadline keeps running: a session not resumed in time is given up like a silent one.
      this.logger.warn({ code: 'zookeeper_call_2001' }, 'ZooKeeper connection lost; reconnecting');
    });
    client.on('connected', () => {
      this.sessionUp = true;
    });
    client.once('expired', () => this.replace(client, 'session expired'));
    client.on('state', (state) => this.logger.debug({ zk_state: String(state) }, 'ZooKeeper state'));
    client.connect();
    this.client = client;
    this.armDeadline(client);
    this.beat(client);
  }

  /**
   * node-zookeeper-client parses replies in a socket 'data' handler: an exception there (a reply it cannot
   * decode, e.g. an unknown error code) is uncaught and kills the process. And it keeps the unparsed rest
   * of a socket's bytes across reconnections, so after a connection dropped mid-reply the next connection's
   * replies are read shifted by those stale bytes (the likely way to `Unknown code: -821690359` after a
   * partition: the library drops a connection itself on an out-of-order reply, keeping the rest of it).
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

  /** Gives the session up once it is no longer trusted, counted from the last answer (or the opening). */
  private armDeadline(client: zookeeper.Client): void {
    clearTimeout(this.deadline);
    const from = this.lastHeard ?? this.openedAt;
    const at = from + this.sessionMs() * TRUSTED_SHARE;
    this.deadline = setTimeout(
      () => {
        if (this.client !== client) return;
        if (this.lastHeard !== undefined && performance.now() < this.trustedUntil()) {
          this.armDeadline(client);
          return;
        }
        this.replace(client, 'answered nothing within session_timeout');
      },
      Math.max(0, at - performance.now()),
    );
    this.deadline.unref();
  }

  /** A cheap request every third of the session timeout, so that an idle session stays trusted. */
  private beat(client: zookeeper.Client): void {
    clearTimeout(this.heartbeat);
    this.heartbeat = setTimeout(() => {
      if (this.closed || this.client !== client) return;
      void this.call<unknown>('heartbeat', (c, done) => c.exists('/', done)).catch(() => {});
      this.beat(client);
    }, this.sessionMs() / 3);
    this.heartbeat.unref();
  }

  /** Gives up a session: its leases are lost either way, and a new client starts from a clean connection. */
  private replace(client: zookeeper.Client, why: string): void {
    if (this.closed || this.client !== client) return;
    const lost = this.sessionUp ? 'its leases are lost; new session' : 'new connection';
    this.logger.warn({ code: 'zookeeper_call_2001' }, `ZooKeeper ${why}: ${lost}`);
    this.session.abort(new ShepherdError('zookeeper_call_2001', `ZooKeeper ${why}`));
    this.onExpired();
    client.close();
    this.open();
  }

  /** Runs one request; rejects with the ZooKeeper exception, or `zookeeper_call_2001` on timeout. */
  async call<T>(
    what: string,
    fn: (client: zookeeper.Client, done: (err: unknown, value?: T) => void) => void,
  ): Promise<T> {
    const ms = this.o.request_timeout * 1000;
    const client = this.client;
    const sentAt = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
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
              this.answered(client, err, sentAt);
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

  /** An answer from the server (a ZooKeeper exception is one; a lost connection is not) renews the trust. */
  private answered(client: zookeeper.Client, err: unknown, sentAt: number): void {
    if (this.client !== client) return;
    const code = zkCode(err);
    if (
      err &&
      (code === undefined || code === Exception.CONNECTION_LOSS || code === Exception.SESSION_EXPIRED)
    )
      return;
    if (this.lastHeard === undefined || sentAt > this.lastHeard) this.lastHeard = sentAt;
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.deadline);
    clearTimeout(this.heartbeat);
    this.session.abort(new ShepherdError('zookeeper_call_2001', 'ZooKeeper runtime closed'));
    this.client.close();
  }
}
