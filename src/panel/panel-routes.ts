import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Operations } from '../daemon/operations.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { type Caller, callerOf, TOKEN_COOKIE } from '../http/auth.js';
import { assertSameOrigin, requestScheme } from '../http/origin.js';
import { Representation, sendRepresentation } from '../http/representation.js';
import type { StateReader } from '../http/state-reader.js';
import { PANEL_CSS, PANEL_JS } from './assets.js';
import { CSP, HTML_TYPE, type PanelContext, panelContext } from './panel-context.js';
import { errorBody, loginBody, type PageFrame, page } from './panel-pages.js';
import { renderPanelPath } from './panel-render.js';
import { registerStream } from './panel-stream.js';

/** Over https the token cookie is `Secure`, so a browser never sends it over plain http. */
const secureFlag = (req: FastifyRequest) => (requestScheme(req) === 'https' ? '; Secure' : '');

/**
 * The panel: server-rendered pages (no front-end build) kept live by a server-sent event stream that
 * sends the re-rendered body. Pages read the same snapshot as the API and never reload presets.
 */
export function registerPanel(
  app: FastifyInstance,
  daemon: Operations,
  reader: StateReader,
  callerFrom: (req: FastifyRequest) => Caller,
): void {
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  const ctx = panelContext(daemon, reader, callerFrom);
  registerPages(app, ctx);
  registerSignIn(app, ctx);
  registerAssets(app);
  registerStream(app, ctx);
}

function registerPages(app: FastifyInstance, ctx: PanelContext): void {
  for (const path of ['/', '/tasks', '/presets/:name']) {
    app.get(path, async (req, reply) => {
      const caller = ctx.readerOrLogin(req, reply);
      if (!caller) return reply;
      try {
        // The whole page, encoded (and compressed) once per short window and identity: the list is large.
        const rep = await ctx.reader.memo(`page:${req.url}:${caller.name}:${caller.role}`, async () => {
          const view = await renderPanelPath(ctx, req.url, caller);
          if (!view) throw new ShepherdError('api_request_0002', req.url);
          return new Representation(page(view.frame, view.body).value, HTML_TYPE, view.secret);
        });
        reply.header('content-security-policy', CSP);
        return sendRepresentation(req, reply, rep);
      } catch (err) {
        const e = asShepherdError(err, 'panel_page_1001');
        const frame: PageFrame = {
          title: 'Error',
          instance: ctx.daemon.instanceId,
          access: ctx.accessOf(caller),
          live: '',
          nav: 'presets',
        };
        return ctx.sendPage(
          reply,
          e.code === 'cli_preset_1001' ? 404 : 500,
          frame,
          errorBody(e.code, e.message),
        );
      }
    });
  }
}

function registerSignIn(app: FastifyInstance, ctx: PanelContext): void {
  app.get('/login', async (req, reply) => {
    const bad = (req.query as Record<string, string>).bad !== undefined;
    const frame: PageFrame = {
      title: 'Sign in',
      instance: ctx.daemon.instanceId,
      access: { who: 'anonymous', canOperate: false, tokens: true, why: '' },
      live: '',
      nav: 'presets',
    };
    return ctx.sendPage(reply, 200, frame, loginBody(bad ? 'That token is not valid.' : undefined));
  });
  app.post('/login', async (req, reply) => {
    // A cross-site form must not sign the browser in with the attacker's token (login CSRF).
    assertSameOrigin(req);
    const token = String((req.body as Record<string, unknown> | undefined)?.token ?? '');
    let caller: Caller;
    try {
      caller = callerOf(ctx.http(), token);
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
}

function registerAssets(app: FastifyInstance): void {
  app.get('/panel/app.css', async (_req, reply) =>
    reply.header('content-type', 'text/css; charset=utf-8').send(PANEL_CSS),
  );
  app.get('/panel/app.js', async (_req, reply) =>
    reply.header('content-type', 'text/javascript; charset=utf-8').send(PANEL_JS),
  );
}
