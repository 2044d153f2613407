import { createServer as createHttpServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer, type Server as TcpServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { driverContext } from '../../src/daemon/driver-context.js';
import { dummyHealthcheck } from '../../src/drivers/healthcheck/dummy.js';
import { httpHealthcheck } from '../../src/drivers/healthcheck/http.js';
import { tcpHealthcheck } from '../../src/drivers/healthcheck/tcp.js';
import type { DriverDefinition, HealthCheck } from '../../src/drivers/types.js';
import { healthcheckContract, vmAt } from '../../src/testing/healthcheck-contract.js';
import { systemClock } from '../../src/util/clock.js';
import { quietLogger } from '../helpers/catalog.js';

async function create(
  def: DriverDefinition<'healthcheck'>,
  raw: Record<string, unknown>,
): Promise<HealthCheck> {
  const parsed = def.parseOptions(raw);
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  return def.create(
    parsed.value,
    driverContext(quietLogger(), systemClock, 't', '.', def.name),
  ) as Promise<HealthCheck>;
}

const listen = <S extends Server | TcpServer>(server: S) =>
  new Promise<number>((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)),
  );

/** A port where nothing listens (bound and closed again). */
async function closedPort(): Promise<number> {
  const s = createTcpServer();
  const port = await listen(s);
  await new Promise((r) => s.close(r));
  return port;
}

healthcheckContract('HttpHealthcheck', async () => {
  const server = createHttpServer((req, res) => {
    if (req.url === '/ok') res.end('ok');
    else if (req.url === '/slow') setTimeout(() => res.end('late'), 5000);
    else {
      res.statusCode = 500;
      res.end('broken');
    }
  });
  const port = await listen(server);
  const ok = await create(httpHealthcheck as never, {
    port,
    path: '/ok',
    read_timeout: 0.3,
    conn_timeout: 0.3,
  });
  const bad = await create(httpHealthcheck as never, { port, path: '/fail', read_timeout: 0.3 });
  const slow = await create(httpHealthcheck as never, { port, path: '/slow', read_timeout: 0.3 });
  // One check object per subject: route by VM id to the check configured for it.
  const byId: Record<string, HealthCheck> = { healthy: ok, unhealthy: bad, silent: slow };
  return {
    check: { check: (vm, o) => (byId[vm.id] ?? ok).check(vm, o) },
    healthy: vmAt('127.0.0.1', 'healthy'),
    unhealthy: vmAt('127.0.0.1', 'unhealthy'),
    silent: vmAt('127.0.0.1', 'silent'),
    close: async () => {
      await Promise.all([ok.close?.(), bad.close?.(), slow.close?.()]);
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
});

healthcheckContract(
  'TcpHealthcheck',
  async () => {
    const server = createTcpServer((socket) => socket.end());
    const port = await listen(server);
    const closed = await closedPort();
    const ok = await create(tcpHealthcheck as never, { port, timeout: 0.3 });
    const refused = await create(tcpHealthcheck as never, { port: closed, timeout: 0.3 });
    const byId: Record<string, HealthCheck> = { healthy: ok, unhealthy: refused };
    return {
      check: { check: (vm, o) => (byId[vm.id] ?? ok).check(vm, o) },
      healthy: vmAt('127.0.0.1', 'healthy'),
      unhealthy: vmAt('127.0.0.1', 'unhealthy'),
      close: () => new Promise((r) => server.close(() => r())),
    };
  },
  {
    skipBecause:
      'on loopback the kernel completes every handshake and this sandbox answers connects to unrouted addresses, so a TCP connect that never completes cannot be made here; the timeout path is shared with HttpHealthcheck (verdicts.ts), whose silent case runs',
  },
);

healthcheckContract(
  'DummyHealthcheck',
  async () => {
    const check = await create(dummyHealthcheck as never, { unhealthy_rate: 0.5, seed: 1 });
    // Find one VM id the seed makes sick and one it leaves healthy.
    const ids = Array.from({ length: 50 }, (_, i) => `vm-${i}`);
    const verdicts = await Promise.all(ids.map((id) => check.check(vmAt('10.0.0.1', id))));
    return {
      check,
      healthy: vmAt('10.0.0.1', ids[verdicts.findIndex((v) => v.verdict === 'healthy')]),
      unhealthy: vmAt('10.0.0.1', ids[verdicts.findIndex((v) => v.verdict === 'unhealthy')]),
    };
  },
  {
    skipBecause: 'a simulated check has no network and cannot hang; its latency option is bounded by design',
  },
);

describe('HttpHealthcheck details', () => {
  it('accepts a list of statuses and counts a refused connection as unhealthy', async () => {
    const server = createHttpServer((_req, res) => {
      res.statusCode = 204;
      res.end();
    });
    const port = await listen(server);
    const check = await create(httpHealthcheck as never, { port, check_status: [200, 204] });
    expect((await check.check(vmAt('127.0.0.1'))).verdict).toBe('healthy');
    const refused = await create(httpHealthcheck as never, { port: await closedPort() });
    expect(await refused.check(vmAt('127.0.0.1'))).toMatchObject({
      verdict: 'unhealthy',
      code: 'http_check_2002',
    });
    await check.close?.();
    await refused.close?.();
    server.close();
  });

  it("accepts the original's options and rejects unknown ones", () => {
    const original = {
      method: 'GET',
      path: '/',
      port: 7007,
      check_status: 200,
      conn_timeout: 1,
      read_timeout: 1,
    };
    expect(httpHealthcheck.parseOptions(original).ok).toBe(true);
    const bad = httpHealthcheck.parseOptions({ ...original, prot: 1 });
    expect(bad.ok).toBe(false);
  });
});

describe('DummyHealthcheck details', () => {
  it('makes every Nth VM it sees sick with sick_every', async () => {
    const check = await create(dummyHealthcheck as never, { sick_every: 3 });
    const verdicts = [];
    for (let i = 1; i <= 7; i++) verdicts.push((await check.check(vmAt('10.0.0.1', `vm-${i}`))).verdict);
    expect(verdicts).toEqual([
      'healthy',
      'healthy',
      'unhealthy',
      'healthy',
      'healthy',
      'unhealthy',
      'healthy',
    ]);
    expect((await check.check(vmAt('10.0.0.1', 'vm-3'))).verdict).toBe('unhealthy'); // for good
  });

  it('turns VMs sick only after unhealthy_after seconds', async () => {
    const check = await create(dummyHealthcheck as never, { unhealthy_rate: 1, unhealthy_after: 60 });
    const young = { ...vmAt('10.0.0.1'), createdAt: new Date().toISOString() };
    const old = { ...vmAt('10.0.0.1'), createdAt: new Date(Date.now() - 61_000).toISOString() };
    expect((await check.check(young)).verdict).toBe('healthy');
    expect((await check.check(old)).verdict).toBe('unhealthy');
  });
});
