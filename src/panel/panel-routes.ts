import type { ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Daemon } from '../daemon/daemon.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { type Caller, callerOf, TOKEN_COOKIE } from '../http/auth.js';
import { assertSameOrigin, requestScheme } from '../http/origin.js';
import { Representation, sendRepresentation } from '../http/representation.js';
import type { StateReader } from '../http/state-reader.js';
import { eventsOf, presetDetailOf, presetSummaryOf, vmViewOf } from '../http/views.js';
import { PANEL_CSS, PANEL_JS } from './assets.js';
import type { Html } from './html.js';
import {
  errorBody,
  loginBody,
  type PageFrame,
  type PanelAccess,
  page,
  presetBody,
  presetsBody,
  tasksBody,
} from './panel-pages.js';
import { streamVerdict } from './stream-verdict.js';

/** Over https the token cookie is `Secure`, so a browser never sends it over plain http. */
const secureFlag = (req: FastifyRequest) => (requestScheme(req) === 'https' ? '; Secure' : '');

const HTML_TYPE = 'text/html; charset=utf-8';

const CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/**
 * How often the live stream re-renders the page body. Each frame first resolves the stream's caller again
 * (see streamVerdict): a reload that removes or changes its token ends the stream at its next frame.
 */
const STREAM_INTERVAL_MS = 1500;

/**
 * The panel: server-rendered pages (no front-end build) kept live by a server-sent event stream that
 * sends the re-rendered body. Pages read the same snapshot as the API and never reload presets.
 */
export function registerPanel(
  app: FastifyInstance,
  daemon: Daemon,
  reader: StateReader,
  callerFrom: (req: FastifyRequest) => Caller,
): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const http = () => daemon.config.http;

  const accessOf = (caller: Caller): PanelAccess => ({
    who: caller.name,
    canOperate: caller.role === 'operate',
    tokens: http().tokens.length > 0,
    why:
      caller.role === 'operate'
        ? 'operate token'
        : http().tokens.length === 0
          ? 'Actions are disabled: the configuration defines no API token (add http.tokens with role operate)'
          : caller.role === 'read'
            ? 'This token has the read role; actions need an operate token'
            : 'Sign in with an operate token to act',
  });

  /** The page for a panel path, or null when there is none. */
  /** `secret`: the page shows rendered userdata (an operator's preset page). */
  const render = async (
    path: string,
    caller: Caller,
  ): Promise<{ frame: PageFrame; body: Html; secret?: boolean } | null> => {
    const url = new URL(path, 'http://panel');
    const access = accessOf(caller);
    const now = Date.now();
    const frame = (title: string, nav: PageFrame['nav']): PageFrame => ({
      title,
      instance: daemon.instanceId,
      access,
      live: url.pathname + url.search,
      nav,
    });
    if (url.pathname === '/') {
      const q = url.searchParams.get('q') ?? '';
      const body = await reader.memo(`panel:presets:${q}`, async () => {
        const all = (await reader.all()).map(({ preset, state }) => presetSummaryOf(preset, state));
        const shown = q ? all.filter((p) => p.name.toLowerCase().includes(q.toLowerCase())) : all;
        return presetsBody(shown, q, now);
      });
      return { frame: frame('Presets', 'presets'), body };
    }
    if (url.pathname === '/tasks')
      return { frame: frame('Tasks', 'tasks'), body: tasksBody(await daemon.listTasks({ limit: 1000 })) };
    const m = /^\/presets\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const name = decodeURIComponent(m[1] as string);
      const preset = daemon.catalog.get(name);
      if (!preset) throw new ShepherdError('cli_preset_1001', name);
      // The body differs only by role (buttons, userdata): shared within a short window per role.
      const { body, secret } = await reader.memo(`panel:preset:${name}:${caller.role}`, async () => {
        const state = await reader.state(name);
        const detail = presetDetailOf(preset, state, access.canOperate);
        const vms = state.vms.map((vm) => vmViewOf(preset, state, vm, now));
        const events = eventsOf(name, state).reverse();
        return {
          body: presetBody(
            detail,
            vms,
            events,
            await daemon.listTasks({ preset: name, limit: 20 }),
            access,
            now,
          ),
          secret: detail.userdata !== undefined,
        };
      });
      return { frame: frame(name, 'preset'), body, secret };
    }
    return null;
  };

  /** Reads need a token unless open: an anonymous browser is sent to sign in. */
  const readerOrLogin = (req: FastifyRequest, reply: FastifyReply): Caller | null => {
    let caller: Caller;
    try {
      caller = callerFrom(req);
    } catch {
      void reply.redirect('/login?bad=1', 303);
      return null;
    }
    if (caller.role === null && !http().openReads) {
      void reply.redirect('/login', 303);
      return null;
    }
    return caller;
  };

  const sendHtml = (reply: FastifyReply, status: number, bytes: Buffer | string) =>
    reply.code(status).header('content-type', HTML_TYPE).header('content-security-policy', CSP).send(bytes);
  const sendPage = (reply: FastifyReply, status: number, frame: PageFrame, body: Html) =>
    sendHtml(reply, status, page(frame, body).value);

  for (const path of ['/', '/tasks', '/presets/:name']) {
    app.get(path, async (req, reply) => {
      const caller = readerOrLogin(req, reply);
      if (!caller) return reply;
      try {
        // The whole page, encoded (and compressed) once per short window and identity: the list is large.
        const rep = await reader.memo(`page:${req.url}:${caller.name}:${caller.role}`, async () => {
          const view = await render(req.url, caller);
          if (!view) throw new ShepherdError('api_request_0002', req.url);
          return new Representation(page(view.frame, view.body).value, HTML_TYPE, view.secret);
        });
        reply.header('content-security-policy', CSP);
        return sendRepresentation(req, reply, rep);
      } catch (err) {
        const e = asShepherdError(err, 'panel_page_1001');
        const frame: PageFrame = {
          title: 'Error',
          instance: daemon.instanceId,
          access: accessOf(caller),
          live: '',
          nav: 'presets',
        };
        return sendPage(reply, e.code === 'cli_preset_1001' ? 404 : 500, frame, errorBody(e.code, e.message));
      }
    });
  }

  app.get('/login', async (req, reply) => {
    const bad = (req.query as Record<string, string>).bad !== undefined;
    const frame: PageFrame = {
      title: 'Sign in',
      instance: daemon.instanceId,
      access: { who: 'anonymous', canOperate: false, tokens: true, why: '' },
      live: '',
      nav: 'presets',
    };
    return sendPage(reply, 200, frame, loginBody(bad ? 'That token is not valid.' : undefined));
  });
  app.post('/login', async (req, reply) => {
    // A cross-site form must not sign the browser in with the attacker's token (login CSRF).
    assertSameOrigin(req);
    const token = String((req.body as Record<string, unknown> | undefined)?.token ?? '');
    let caller: Caller;
    try {
      caller = callerOf(http(), token);
    } catch {
      return reply.redirect('/login?bad=1', 303);
    }
    if (caller.role === null) return reply.redirect('/login?bad=1', 303);
    reply.header(
      'set-cookie',
      `${TOKEN_COOKIE}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/${secureFlag(req)}`,
    );
    return reply.redirect('/', 303);
  });
  app.post('/logout', async (req, reply) => {
    reply.header(
      'set-cookie',
      `${TOKEN_COOKIE}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0${secureFlag(req)}`,
    );
    return reply.redirect('/login', 303);
  });

  app.get('/panel/app.css', async (_req, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').send(PANEL_CSS),
  );
  app.get('/panel/app.js', async (_req, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').send(PANEL_JS),
  );

  // Open streams never idle, so closing the server ends them first (else close would wait for browsers).
  const streams = new Set<ServerResponse>();
  app.addHook('preClose', async () => {
    for (const res of streams) res.end();
  });
  app.get('/panel/stream', async (req, reply) => {
    const caller = readerOrLogin(req, reply);
    if (!caller) return reply;
    const path = String((req.query as Record<string, unknown>).path ?? '/');
    if (!path.startsWith('/')) throw new ShepherdError('api_request_0001', 'path must start with /');
    if (streams.size >= http().maxStreams)
      throw new ShepherdError(
        'api_request_2002',
        `${streams.size} open, http.max_streams ${http().maxStreams}`,
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
        now = callerFrom(req);
      } catch {
        now = undefined;
      }
      const end = streamVerdict(caller, now, http().openReads, Date.now() - opened, http().streamMaxLifeMs);
      if (end === null) return false;
      clearInterval(timer);
      res.end(`event: end\ndata: ${end}\n\n`);
      return true;
    };
    const push = async () => {
      if (busy || res.writableEnded || ended()) return;
      busy = true;
      try {
        const view = await render(path, caller);
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
