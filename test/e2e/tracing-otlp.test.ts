import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon/daemon.js';
import { tempDir } from '../helpers/tmp.js';

describe('trace export', () => {
  it('sends the spans over OTLP/HTTP to the configured endpoint', async () => {
    const bodies: string[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (d) => (body += d));
      req.on('end', () => {
        bodies.push(`${req.url} ${req.headers['x-api-key']} ${body}`);
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as AddressInfo).port;
    const dir = tempDir({
      'settings.yaml': `runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
tracing: {otlp_endpoint: 'http://127.0.0.1:${port}/v1/traces', headers: {x-api-key: k3y}, service_name: shepherd-test}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0}
`,
      'presets/a.conf': 'name: a\ncount: 1\nmanage_interval: 0\n',
    });
    const daemon = await Daemon.create({
      configFile: `${dir}/settings.yaml`,
      logDestination: { write: () => true } as unknown as NodeJS.WritableStream,
      pretty: false,
    });
    await daemon.runOnce();
    await daemon.stop(); // flushes the batch
    server.close();
    const all = bodies.join('\n');
    expect(all).toContain('/v1/traces k3y');
    expect(all).toContain('vmshepherd.manage');
    expect(all).toContain('vmshepherd.cloud.create');
    expect(all).toContain('shepherd-test');
  });
});
