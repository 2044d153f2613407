import { once } from 'node:events';
import { createServer, type Server, type Socket, connect as tcpConnect } from 'node:net';

/** A TCP proxy in front of one server, which a test can partition from its clients. */
export interface TcpProxy {
  /** `127.0.0.1:port` of the proxy. */
  address: string;
  /**
   * Stops forwarding, keeping every connection open (a silently dropped network path): bytes sent meanwhile
   * are held and delivered on resume, as TCP would after a partition heals. `both` (the default) holds both
   * directions; `replies` holds only what the server sends, so the server still hears the client (its
   * session kept alive by pings) while the client hears nothing: a one-sided partition.
   */
  pause(direction?: 'both' | 'replies'): void;
  resume(): void;
  /** Writes raw bytes to every client as if the server had sent them (corrupt or stale replies). */
  inject(bytes: Buffer): void;
  /** Drops every connection at once (both sides closed), as a reset network path would. */
  cut(): void;
  close(): Promise<void>;
}

/** Starts a proxy on a free port of 127.0.0.1 forwarding to `target` (`host:port`). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const [host, port] = target.split(':') as [string, string];
  const pairs = new Set<[Socket, Socket]>();
  const paused = { toServer: false, toClient: false };
  /** Bytes held while paused, per destination socket, delivered in order on resume. */
  const held = new Map<Socket, Buffer[]>();
  const forward = (from: Socket, to: Socket, direction: keyof typeof paused) =>
    from.on('data', (d: Buffer) => {
      if (paused[direction]) held.set(to, [...(held.get(to) ?? []), d]);
      else to.write(d);
    });
  const server: Server = createServer((client) => {
    const upstream = tcpConnect(Number(port), host);
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('error', drop);
      s.on('close', drop);
    }
    forward(client, upstream, 'toServer');
    forward(upstream, client, 'toClient');
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  const listenPort = typeof address === 'object' && address ? address.port : 0;
  const each = (f: (s: Socket) => void) => {
    for (const pair of pairs) for (const s of pair) f(s);
  };
  return {
    address: `127.0.0.1:${listenPort}`,
    pause: (direction = 'both') => {
      paused.toClient = true;
      paused.toServer = direction === 'both';
    },
    resume: () => {
      paused.toClient = false;
      paused.toServer = false;
      for (const [to, chunks] of held) if (!to.destroyed) for (const c of chunks) to.write(c);
      held.clear();
    },
    inject: (bytes) => {
      for (const [client] of pairs) client.write(bytes);
    },
    cut: () => each((s) => s.destroy()),
    close: async () => {
      each((s) => s.destroy());
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
