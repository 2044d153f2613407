import { readFileSync, writeFileSync } from 'node:fs';
import { get, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type ApiFixture,
  apiFixture,
  OPERATE_TOKEN,
  READ_TOKEN,
  settings,
  tokensBlock,
  USERDATA_SECRET,
} from '../helpers/api.js';

/** One server-sent event: `data` frames carry a page body, `end` says why the server ended the stream. */
interface Frame {
  event: string;
  data: string;
}

/** An open `/panel/stream` over a real socket, read frame by frame. */
class Stream {
  private buffer = '';
  private readonly frames: Frame[] = [];
  private waiting: (() => void) | undefined;
  closed = false;

  constructor(readonly res: IncomingMessage) {
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      this.buffer += chunk;
      let at = this.buffer.indexOf('\n\n');
      while (at >= 0) {
        const block = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 2);
        const frame: Frame = { event: 'message', data: '' };
        const data: string[] = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) frame.event = line.slice(7);
          else if (line.startsWith('data: ')) data.push(line.slice(6));
          else if (line.startsWith(':')) frame.event = 'comment';
        }
        frame.data = data.join('\n');
        this.frames.push(frame);
        at = this.buffer.indexOf('\n\n');
      }
      this.wake();
    });
    res.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  private wake() {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  /** The next frame, or null once the server closed the stream. */
  async next(): Promise<Frame | null> {
    while (this.frames.length === 0 && !this.closed) await new Promise<void>((r) => (this.waiting = r));
    return this.frames.shift() ?? null;
  }

  /** Frames until the stream closes, at most `limit` of them (then it is still open: the test fails). */
  async rest(limit: number): Promise<{ frames: Frame[]; closed: boolean }> {
    const frames: Frame[] = [];
    while (frames.length < limit) {
      const f = await this.next();
      if (!f) return { frames, closed: true };
      frames.push(f);
    }
    return { frames, closed: this.closed };
  }

  close() {
    this.res.destroy();
  }
}

async function listening(f: ApiFixture): Promise<number> {
  await f.app.listen({ host: '127.0.0.1', port: 0 });
  return (f.app.server.address() as AddressInfo).port;
}

function openStream(port: number, token: string, path = '/presets/web'): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    get(
      {
        host: '127.0.0.1',
        port,
        path: `/panel/stream?path=${encodeURIComponent(path)}`,
        headers: { authorization: `Bearer ${token}` },
      },
      resolve,
    ).on('error', reject);
  });
}

/** The first frame showing a page body (the stream sends one at once). */
async function firstPage(s: Stream): Promise<Frame> {
  for (;;) {
    const f = await s.next();
    if (!f) throw new Error('stream closed before its first page');
    if (f.event === 'message') return f;
  }
}

describe('panel streams (issue 22 point 7)', () => {
  let f: ApiFixture | undefined;
  const open: Stream[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.close();
    await f?.close();
    f = undefined;
  });

  const start = async (extra = '') => {
    f = await apiFixture(settings(tokensBlock(extra)));
    await f.daemon.refreshPresets();
    return listening(f);
  };
  const stream = async (port: number, token: string) => {
    const res = await openStream(port, token);
    expect(res.statusCode).toBe(200);
    const s = new Stream(res);
    open.push(s);
    return s;
  };
  const rewriteTokens = async (fx: ApiFixture, edit: (text: string) => string) => {
    const file = join(fx.dir, 'settings.yaml');
    writeFileSync(file, edit(readFileSync(file, 'utf8')));
    expect(await fx.daemon.reload()).toBe(true);
  };

  it('ends a stream at its next frame once a reload removed its token', async () => {
    const port = await start();
    const s = await stream(port, OPERATE_TOKEN);
    expect((await firstPage(s)).data).toContain(USERDATA_SECRET);
    const fx = f as ApiFixture;
    await rewriteTokens(fx, (t) => t.replace(/\n\s+- \{name: ops.*\n/, '\n'));
    const { frames, closed } = await s.rest(4);
    expect(closed).toBe(true);
    expect(frames.at(-1)).toEqual({ event: 'end', data: 'revoked' });
    // At most a frame already on the wire when the reload returned; never a page rendered after it.
    expect(frames.length).toBeLessThanOrEqual(2);
  });

  it('ends an operate stream (with userdata) once its token is downgraded to read', async () => {
    const port = await start();
    const s = await stream(port, OPERATE_TOKEN);
    expect((await firstPage(s)).data).toContain(USERDATA_SECRET);
    const fx = f as ApiFixture;
    await rewriteTokens(fx, (t) => t.replace('{name: ops, role: operate', '{name: ops, role: read'));
    const { frames, closed } = await s.rest(4);
    expect(closed).toBe(true);
    expect(frames.at(-1)).toEqual({ event: 'end', data: 'role-changed' });
    expect(frames.length).toBeLessThanOrEqual(2);
    // Opened again, the same token gets the read page.
    const again = await stream(port, OPERATE_TOKEN);
    expect((await firstPage(again)).data).not.toContain(USERDATA_SECRET);
  });

  it('keeps a stream whose token a reload left as it was', async () => {
    const port = await start();
    const s = await stream(port, READ_TOKEN);
    await firstPage(s);
    const fx = f as ApiFixture;
    await rewriteTokens(fx, (t) => t.replace(/\n\s+- \{name: ops.*\n/, '\n'));
    const next = await s.next();
    expect(next?.event).not.toBe('end');
    expect(s.closed).toBe(false);
  });

  it('ends a stream at its maximum life', async () => {
    const port = await start('  stream_max_life: 0.5');
    const s = await stream(port, READ_TOKEN);
    await firstPage(s);
    const { frames, closed } = await s.rest(3);
    expect(closed).toBe(true);
    expect(frames).toEqual([{ event: 'end', data: 'max-life' }]);
  });

  it('refuses a stream beyond http.max_streams', async () => {
    const port = await start('  max_streams: 1');
    await firstPage(await stream(port, READ_TOKEN));
    const refused = await openStream(port, READ_TOKEN);
    expect(refused.statusCode).toBe(503);
    const body = await new Promise<string>((resolve) => {
      let text = '';
      refused.setEncoding('utf8');
      refused.on('data', (c: string) => (text += c));
      refused.on('end', () => resolve(text));
    });
    expect(JSON.parse(body).error.code).toBe('api_request_2002');
  });
});
