import { connect } from 'node:net';
import { z } from 'zod';
import { onAbort } from '../../util/abort-fanout.js';
import { defineDriver, type HealthCheck, type HealthResult } from '../types.js';
import { zodOptions } from '../zod-options.js';
import { noIp, unhealthyFromError } from './verdicts.js';

const options = z.strictObject({
  port: z.number().int().min(1).max(65535).describe('port that must accept a connection'),
  timeout: z.number().positive().default(1).describe('seconds to connect'),
});

/** Healthy when the port accepts a TCP connection within the timeout. */
export const tcpHealthcheck = defineDriver({
  kind: 'healthcheck',
  name: 'TcpHealthcheck',
  description: 'TCP connect to a port of each VM',
  ...zodOptions(options),
  create: (o): HealthCheck => ({
    check(vm, call): Promise<HealthResult> {
      const ip = vm.ips[0];
      if (!ip) return Promise.resolve(noIp());
      const started = performance.now();
      const what = `connect ${ip}:${o.port}`;
      return new Promise((resolve) => {
        const socket = connect({ host: ip, port: o.port, timeout: o.timeout * 1000 });
        const done = (result: HealthResult) => {
          socket.destroy();
          stopWaiting();
          resolve(result);
        };
        const aborted = () =>
          done(unhealthyFromError({ name: 'AbortError' }, what, started, 'tcp_check_2001', 'tcp_check_2002'));
        const stopWaiting = call?.signal ? onAbort(call.signal, aborted) : () => {};
        socket.once('connect', () => done({ verdict: 'healthy', latencyMs: performance.now() - started }));
        socket.once('timeout', () =>
          done(unhealthyFromError({ code: 'ETIMEDOUT' }, what, started, 'tcp_check_2001', 'tcp_check_2002')),
        );
        socket.once('error', (err) =>
          done(unhealthyFromError(err, what, started, 'tcp_check_2001', 'tcp_check_2002')),
        );
      });
    },
  }),
});
