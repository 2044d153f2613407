import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ApiFixture, apiFixture, settings } from '../helpers/api.js';

// Every cloud call takes 0.4 s, so a cycle (one listing, then the manage of each preset) runs long enough
// for the requests below to arrive while it does.
const SLOW_CLOUD = 'DummyIaasDriver, latency: 0.4, boot_time: 0.05';

describe('HTTP requests while a manage cycle runs', () => {
  let f: ApiFixture;
  beforeAll(async () => {
    f = await apiFixture(settings('http: {listen_port: 0, rate_while_cycling: 50}', SLOW_CLOUD), {
      'db.conf': 'name: db\ncount: 1\nimage: img-1\nmanage_interval: 0\n',
    });
    await f.daemon.runOnce();
  });
  afterAll(() => f?.close());

  it('are paced, probes excepted, and refused with Retry-After past the queue', async () => {
    const cycle = f.daemon.runCycle();
    expect(f.daemon.isCycling()).toBe(true);
    let servedSoFar = 0;
    // Two seconds' worth at 50/s (100, the queue's floor) may wait; the rest are refused at once.
    const answers = Promise.all(
      Array.from({ length: 160 }, () =>
        f.app.inject({ method: 'GET', url: '/api/v1/presets' }).then((r) => {
          if (r.statusCode === 200) servedSoFar++;
          return r;
        }),
      ),
    );
    const probe = await f.app.inject({ method: 'GET', url: '/healthz' });
    expect(probe.statusCode).toBe(200);
    const servedBeforeProbe = servedSoFar;

    const all = await answers;
    await cycle;
    const refused = all.filter((r) => r.statusCode === 503);
    const served = all.filter((r) => r.statusCode === 200);
    expect(served.length + refused.length).toBe(160);
    expect(refused.length).toBeGreaterThan(0);
    expect(served.length).toBeGreaterThanOrEqual(100);
    expect(refused[0]?.headers['retry-after']).toBe('1');
    expect(refused[0]?.json()).toMatchObject({ error: { code: 'api_request_2001' } });
    // The probe did not wait behind the paced requests: it was answered while most still waited.
    expect(servedBeforeProbe).toBeLessThan(served.length / 2);

    const metrics = (await f.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/vmshepherd_http_paced_requests_total\{outcome="delayed"\} [1-9]/);
    expect(metrics).toMatch(/vmshepherd_http_paced_requests_total\{outcome="refused"\} [1-9]/);
  });

  it('pass at once between cycles', async () => {
    expect(f.daemon.isCycling()).toBe(false);
    const all = await Promise.all(
      Array.from({ length: 300 }, () => f.app.inject({ method: 'GET', url: '/api/v1/presets' })),
    );
    expect(all.every((r) => r.statusCode === 200)).toBe(true);
  });
});
