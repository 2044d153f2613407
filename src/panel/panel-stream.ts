import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import type { Caller } from '../http/auth.js';
import type { PanelContext } from './panel-context.js';
import { errorBody } from './panel-pages.js';
import { renderPanelPath } from './panel-render.js';
import { streamVerdict } from './stream-verdict.js';

/**
 * How often the live stream re-renders the page body. Each frame first resolves the stream's caller again
 * (see streamVerdict): a reload that removes or changes its token ends the stream at its next frame.
 */
const STREAM_INTERVAL_MS = 1500;

/** `/panel/stream`: the re-rendered body of a page as server-sent events, while its caller may read it. */
export function registerStream(app: FastifyInstance, ctx: PanelContext): void {
  // Open streams never idle, so closing the server ends them first (else close would wait for browsers).
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });
  app.get('/panel/stream', async (req, reply) => {
    const caller = ctx.readerOrLogin(req, reply);
    if (!caller) return reply;
    const path = String((req.query as Record<string, unknown>).path ?? '/');
    if (!path.startsWith('/')) throw new ShepherdError('api_request_0001', 'path must start with /');
    if (streams.size >= ctx.http().maxStreams)
      throw new ShepherdError(
        'api_request_2002',
        `${streams.size} open, http.max_streams ${ctx.http().maxStreams}`,
      );
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      connection: 'keep-alive',
    });
    const opened = Date.now();
    let last = '';
    let busy = false;
    let timer: NodeJS.Timeout | undefined;
    /**
     * Resolves the caller again against the tokens in force (a reload may have removed or changed its
     * token) and ends the stream, with a last `end` event, when it no longer serves that caller.
     */
    const ended = (): boolean => {
      let now: Caller | undefined;
      try {
        now = ctx.callerFrom(req);
      } catch {
        now = undefined;
      }
      const end = streamVerdict(
        caller,
        now,
        ctx.http().openReads,
        Date.now() - opened,
        ctx.http().streamMaxLifeMs,
      );
      if (end === null) return false;
      clearInterval(timer);
      res.end(`event: end\ndata: ${end}\n\n`);
      return true;
    };
    const push = async () => {
      if (busy || res.writableEnded || ended()) return;
      busy = true;
      try {
        const view = await renderPanelPath(ctx, path, caller);
        const body = view ? view.body.value : '';
        // Checked again after rendering: a reload during it must not let the old caller's frame through.
        if (res.writableEnded || ended()) return;
        if (body !== last) {
          last = body;
          res.write(`data: ${body.replace(/\n/g, '\ndata: ')}\n\n`);
        } else res.write(': idle\n\n');
      } catch (err) {
        if (res.writableEnded || ended()) return;
        const e = asShepherdError(err, 'panel_page_1001');
        res.write(`data: ${errorBody(e.code, e.message).value.replace(/\n/g, '\ndata: ')}\n\n`);
      } finally {
        busy = false;
      }
    };
    void push(); // at once: a stream opened for a new filter shows it without waiting a tick
    timer = setInterval(() => void push(), STREAM_INTERVAL_MS);
    streams.add(res);
    res.on('close', () => {
      clearInterval(timer);
      streams.delete(res);
    });
  });
}
