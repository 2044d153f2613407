import { isIP } from 'node:net';
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from 'fastify';
import { CloudBudget } from '../api/cloud-budget.js';
import { handleRpc } from '../api/json-rpc.js';
import { openApiDocument } from '../api/openapi.js';
import { RequestGate } from '../api/request-gate.js';
import { RawJson, REST_ROUTES, type RouteDef } from '../api/rest-routes.js';
import { isLoopback } from '../config/load-config.js';
import type { HttpSettings, Operations } from '../daemon/operations.js';
import { CODES, isErrorCode } from '../errors/codes.js';
import { asShepherdError, ShepherdError } from '../errors/shepherd-error.js';
import { inRequestSpan } from '../observability/task-tracing.js';
import { registerPanel } from '../panel/panel-routes.js';
import { VERSION } from '../version.js';
import { assertCanOperate, assertCanRead, bearerOf, type Caller, callerOf } from './auth.js';
import { assertSameOrigin } from './origin.js';
import { sendRepresentation } from './representation.js';
import { StateReader } from './state-reader.js';

/** A request from the panel (cookie) may act only with this header, which no other site can send. */
export const PANEL_HEADER = 'x-vmshepherd-panel';

/**
 * Builds the HTTP server (not listening: tests use `inject`): /healthz, /readyz, /metrics, the REST API
 * under /api/v1 with its OpenAPI document, the original's JSON-RPC at POST /api, and the panel at /.
 */
export function buildServer(daemon: Operations): FastifyInstance {
  const app = Fastify({
    loggerInstance: daemon.logger.child({ component: 'http' }) as FastifyBaseLogger,
    logController: new LogController({ disableRequestLogging: true }),
    // A request can never hang the server (the original's defect 8).
    requestTimeout: 30_000,
    connectionTimeout: 30_000,
    bodyLimit: 1024 * 1024,
    // `/api/v1/presets/` is the list, not a preset named '' (which was a 500).
    routerOptions: { ignoreTrailingSlash: true },
    // A URL fastify cannot decode (FST_ERR_BAD_URL) is answered in the catalogue's shape like any other.
    frameworkErrors: (err, req, reply) => {
      void sendError(reply, req, new ShepherdError('api_request_0001', `${err.code}: ${err.message}`));
    },
  });
  const reader = new StateReader(daemon);
  const budget = new CloudBudget();
  // The original's scripts may post JSON-RPC without a JSON content type.
  app.addContentTypeParser('text/plain', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, JSON.parse(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addHook('onSend', async (_req, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    // Lists and presets say how a browser may keep them (see sendRepresentation); the rest is not kept.
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    daemon.metrics.httpRequest(
      req.method,
      req.routeOptions.url ?? 'unmatched',
      reply.statusCode,
      reply.elapsedTime / 1000,
    );
  });
  checkHostHeader(app, daemon);
  paceWhileCycling(app, daemon);
  app.setErrorHandler((err, req, reply) => sendError(reply, req, err));
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, req, new ShepherdError('api_request_0002', `${req.method} ${req.url.split('?')[0]}`)),
  );

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    try {
      await withTimeout(daemon.probeRuntime(), 2000);
      return { status: 'ready', presets: daemon.presets().length };
    } catch (err) {
      const e = asShepherdError(err, 'api_request_1001');
      return reply.code(503).send({ status: 'not ready', error: { code: e.code, message: e.message } });
    }
  });
  app.get('/metrics', async (req, reply) => {
    assertCanRead(daemon.http(), callerFrom(daemon, req));
    reply.header('content-type', daemon.metrics.registry.contentType);
    return daemon.metrics.registry.metrics();
  });
  app.get('/api/v1/openapi.json', async () => openApiDocument(REST_ROUTES, VERSION));
  for (const route of REST_ROUTES) registerRoute(app, daemon, reader, route);
  app.route({
    method: 'POST',
    url: '/api',
    // A JSON-RPC client reads JSON-RPC errors: a refused caller or body is answered in that shape too.
    errorHandler: (err, req, reply) => sendRpcError(reply, req, err),
    handler: async (req, reply) => {
      const answer = await inRequestSpan('POST', '/api', req.headers, () =>
        handleRpc(req.body, { daemon, reader, budget, caller: callerFrom(daemon, req) }),
      );
      return reply.code(200).send(answer);
    },
  });
  registerPanel(app, daemon, reader, (req) => callerFrom(daemon, req));
  return app;
}

/** Builds the server and listens on `http.host:http.listen_port` (0: a free port); logs the address. */
export async function startServer(daemon: Operations): Promise<FastifyInstance> {
  const app = buildServer(daemon);
  const { host, listenPort } = daemon.http();
  try {
    await app.listen({ host, port: listenPort });
  } catch (err) {
    throw new ShepherdError('api_server_2001', `${host}:${listenPort}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : listenPort;
  daemon.logger.info({ host, port, url: `http://${host}:${port}/` }, 'HTTP API and panel listening');
  warnIfExposed(daemon);
  return app;
}

/** Reads open to the network are allowed only on purpose (see config_load_1008), and said loudly. */
function warnIfExposed(daemon: Operations): void {
  const { host, openReads, tokens } = daemon.http();
  if (isLoopback(host) || !openReads) return;
  daemon.logger.warn(
    { code: 'api_server_1001', host, tokens: tokens.length },
    `${CODES.api_server_1001.message} (${host}): ${CODES.api_server_1001.fix}`,
  );
}

/**
 * Refuses a request naming a host this server is not known by: a page of another site whose name was
 * rebound to this address (DNS rebinding) would otherwise read the API as a same-origin page. IP
 * literals are safe (rebinding needs a name); probes are left alone, they carry nothing to steal.
 */
function checkHostHeader(app: FastifyInstance, daemon: Operations): void {
  app.addHook('onRequest', (req, _reply, done) => {
    if (UNPACED.has(req.routeOptions.url ?? '')) return done();
    const name = hostName(req.headers.host ?? '');
    if (hostAllowed(name, daemon.http())) return done();
    done(new ShepherdError('api_request_0003', `Host: ${req.headers.host ?? '(none)'}`));
  });
}

/** The name of a Host header, lower case, without the port (and without an IPv6 literal's brackets). */
export function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(1, h.indexOf(']') > 0 ? h.indexOf(']') : undefined);
  return h.replace(/:\d*$/, '').replace(/\.$/, '');
}

function hostAllowed(name: string, http: HttpSettings): boolean {
  if (name === '') return false;
  if (name === 'localhost' || isIP(name) !== 0) return true;
  return name === http.host.toLowerCase() || http.allowedHosts.includes(name);
}

/** Probes answer at once whatever the load: an orchestrator must not restart a daemon for being busy. */
const UNPACED = new Set(['/healthz', '/readyz']);

/** Every other request goes through the RequestGate: paced while a cycle runs, refused past its queue. */
function paceWhileCycling(app: FastifyInstance, daemon: Operations): void {
  const gate = new RequestGate({
    rate: () => daemon.http().rateWhileCycling,
    busy: () => daemon.isCycling(),
  });
  app.addHook('onRequest', (req, reply, done) => {
    if (UNPACED.has(req.routeOptions.url ?? '')) return done();
    let waited = false;
    const admitted = gate.enter(() => {
      if (waited) daemon.metrics.httpPaced('delayed');
      done();
    });
    waited = true;
    if (admitted) return;
    daemon.metrics.httpPaced('refused');
    reply.header('retry-after', '1');
    done(new ShepherdError('api_request_2001', `${gate.waitingCount} requests waiting`));
  });
}

function registerRoute(app: FastifyInstance, daemon: Operations, reader: StateReader, route: RouteDef): void {
  app.route({
    method: route.method,
    url: `/api/v1${route.path}`,
    handler: (req, reply) =>
      inRequestSpan(route.method, `/api/v1${route.path}`, req.headers, () => handle(req, reply)),
  });
  async function handle(req: FastifyRequest, reply: FastifyReply) {
    const caller = callerFrom(daemon, req);
    if (route.access === 'operate') assertCanOperate(daemon.http(), caller);
    else assertCanRead(daemon.http(), caller);
    const params = parse(route.params, req.params, 'path', route.paramCodes);
    const query = parse(route.query, req.query, 'query', route.paramCodes);
    const body = route.body ? parse(route.body, req.body, 'body', route.paramCodes) : undefined;
    const result = await route.handler({
      ...(body ? { body } : {}),
      daemon,
      reader,
      caller,
      params: params as Record<string, string>,
      query,
      headers: req.headers,
    });
    reply.code(route.status ?? 200);
    if (result instanceof RawJson) return sendRepresentation(req, reply, result);
    return reply.send(result);
  }
}

function parse(
  schema: RouteDef['params'],
  value: unknown,
  where: 'path' | 'query' | 'body',
  codes: RouteDef['paramCodes'] = {},
): Record<string, unknown> {
  if (!schema) return {};
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data as Record<string, unknown>;
  const issue = r.error.issues[0];
  const name = issue?.path.join('.') || 'parameters';
  throw new ShepherdError(
    codes[name] ?? 'api_request_0001',
    `${where} ${name}: ${issue?.message ?? 'invalid'}`,
  );
}

/**
 * The caller of a request: from `Authorization: Bearer`, or from the panel's cookie. A cookie alone
 * does not authorise an action unless the panel's header is present (no cross-site request can set it)
 * and the browser says the request is not cross-site. Any other `Authorization` (a proxy's `Basic`,
 * which browsers add by themselves) never stands in for that header.
 */
export function callerFrom(daemon: Operations, req: FastifyRequest): Caller {
  const authorization = req.headers.authorization;
  const cookie = req.headers.cookie;
  const bearer = bearerOf(authorization, undefined);
  if (bearer !== undefined) return callerOf(daemon.http(), bearer);
  const reading = req.method === 'GET' || req.method === 'HEAD';
  if (!reading && cookie && bearerOf(undefined, cookie) !== undefined) assertSameOrigin(req);
  const cookieUsable = reading || req.headers[PANEL_HEADER] === '1';
  return callerOf(daemon.http(), bearerOf(undefined, cookieUsable ? cookie : undefined));
}

/** Any error as a catalogue error with its HTTP status (logged when it is the server's fault). */
function catalogued(reply: FastifyReply, req: FastifyRequest, err: unknown) {
  const fastifyErr = err as { statusCode?: number; code?: string; message?: string };
  const e =
    err instanceof ShepherdError
      ? err
      : typeof fastifyErr.statusCode === 'number' && fastifyErr.statusCode < 500
        ? new ShepherdError('api_request_0001', fastifyErr.message)
        : asShepherdError(err, 'api_request_1001');
  const status = isErrorCode(e.code) ? CODES[e.code].http : e.class === 'primitive' ? 503 : 500;
  if (status >= 500) req.log.error({ err, code: e.code, url: req.url }, 'request failed');
  const fix = isErrorCode(e.code) ? CODES[e.code].fix : undefined;
  if (status === 401) reply.header('www-authenticate', 'Bearer realm="vmshepherd"');
  return { e, status, fix };
}

function sendError(reply: FastifyReply, req: FastifyRequest, err: unknown) {
  const { e, status, fix } = catalogued(reply, req, err);
  return reply.code(status).send({ error: { code: e.code, message: e.message, ...(fix ? { fix } : {}) } });
}

/** `-32700` for a body that is not JSON, else `-32000` as the original's errors, the code in `data`. */
function sendRpcError(reply: FastifyReply, req: FastifyRequest, err: unknown) {
  const { e, status, fix } = catalogued(reply, req, err);
  const parseFailed =
    err instanceof SyntaxError || /^FST_ERR_CTP_/.test((err as { code?: string }).code ?? '');
  return reply.code(status).send({
    jsonrpc: '2.0',
    error: {
      code: parseFailed ? -32700 : -32000,
      message: e.message,
      data: { code: e.code, ...(fix ? { fix } : {}) },
    },
    id: null,
  });
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new ShepherdError('api_ready_2001', `no answer in ${ms} ms`)), ms);
    }),
  ]);
}
