import { z } from 'zod';
import { childSignal } from '../../util/abort-fanout.js';
import { acceptsNumericText } from '../python-values.js';
import { defineDriver, type HealthCheck, type HealthResult } from '../types.js';
import { zodOptions } from '../zod-options.js';
import { hostForUrl, noIp, unhealthyFromError } from './verdicts.js';

const options = z.strictObject({
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'OPTIONS']).default('GET'),
  path: z.string().startsWith('/').default('/'),
  // The original wrote port into the URL and read the timeouts with float(): numeric text worked.
  port: acceptsNumericText(z.number().int().min(1).max(65535)).default(80),
  check_status: z
    .union([z.number().int(), z.array(z.number().int()).min(1)])
    .default(200)
    .describe('expected status (or list)'),
  conn_timeout: acceptsNumericText(z.number().positive()).default(1).describe('seconds to connect'),
  read_timeout: acceptsNumericText(z.number().positive())
    .default(1)
    .describe('seconds to receive the response'),
  scheme: z.enum(['http', 'https']).default('http'),
  headers: z.record(z.string(), z.string()).optional(),
  insecure: z.boolean().default(false).describe('https: accept any certificate'),
});

/** The original's HTTP check: a timeout or refused connection is an unhealthy verdict, never an exception. */
export const httpHealthcheck = defineDriver({
  kind: 'healthcheck',
  name: 'HttpHealthcheck',
  description: 'HTTP request to each VM; healthy when the status matches check_status',
  ...zodOptions(options),
  create: async (o): Promise<HealthCheck> => {
    // Imported when used (see BUILTIN_DRIVERS).
    const { Agent, request } = await import('undici');
    // No keep-alive: checks go to many VMs and should see each VM's current state.
    const agent = new Agent({
      connect: { timeout: o.conn_timeout * 1000, rejectUnauthorized: !o.insecure },
      headersTimeout: o.read_timeout * 1000,
      bodyTimeout: o.read_timeout * 1000,
      pipelining: 0,
    });
    const expected = Array.isArray(o.check_status) ? o.check_status : [o.check_status];
    return {
      async check(vm, call): Promise<HealthResult> {
        const ip = vm.ips[0];
        if (!ip) return noIp();
        const started = performance.now();
        const url = `${o.scheme}://${hostForUrl(ip)}:${o.port}${o.path}`;
        // undici listens on the signal it is given: each check gets its own, fed by one shared listener.
        const own = call?.signal ? childSignal(call.signal) : undefined;
        try {
          const res = await request(url, {
            method: o.method,
            dispatcher: agent,
            ...(o.headers ? { headers: o.headers } : {}),
            ...(own ? { signal: own.signal } : {}),
          });
          await res.body.dump();
          const latencyMs = performance.now() - started;
          if (expected.includes(res.statusCode)) return { verdict: 'healthy', latencyMs };
          return {
            verdict: 'unhealthy',
            reason: `${o.method} ${url} answered ${res.statusCode}, expected ${expected.join(' or ')}`,
            code: 'http_check_0001',
            latencyMs,
          };
        } catch (err) {
          return unhealthyFromError(err, `${o.method} ${url}`, started, 'http_check_2001', 'http_check_2002');
        } finally {
          own?.release();
        }
      },
      close: () => agent.close(),
    };
  },
});
