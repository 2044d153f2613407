import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { aptInstall } from './apt.js';
import { freePort, waitForPort } from './ports.js';

export interface TestExporter {
  port: number;
  /** Sets the value `demand_value` reports from the next scrape on. */
  set(value: number): void;
  close(): Promise<void>;
}

/** A Prometheus text-format exporter of one gauge, `demand_value`, on 127.0.0.1. */
export async function startExporter(initial: number): Promise<TestExporter> {
  let value = initial;
  const server: Server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
    res.end(
      `# HELP demand_value what the test says the demand is\n# TYPE demand_value gauge\ndemand_value ${value}\n`,
    );
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    set: (v) => {
      value = v;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface PrometheusServer {
  url: string;
  /** The value Prometheus answers for `query` now (null: no sample). */
  value(query: string): Promise<number | null>;
  /** Kills the server (SIGKILL: an outage). */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

/** Debian's Prometheus, installed when missing (root only: anyone else gets a clear error). */
function prometheusBinary(): string {
  const found = () => {
    try {
      return execFileSync('sh', ['-c', 'command -v prometheus'], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  if (!found()) aptInstall(['prometheus'], 'the demand tests need a Prometheus server');
  const bin = found();
  if (!bin) throw new Error('prometheus was installed but is not on the PATH');
  return bin;
}

/** Prometheus on a free 127.0.0.1 port, scraping the exporter every second, its data in a temp dir. */
export async function startPrometheus(exporterPort: number): Promise<PrometheusServer> {
  const bin = prometheusBinary();
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-prom-'));
  const port = await freePort();
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global: {scrape_interval: 1s, evaluation_interval: 1s}',
      'scrape_configs:',
      '  - job_name: demand',
      `    static_configs: [{targets: ['127.0.0.1:${exporterPort}']}]`,
      '',
    ].join('\n'),
  );
  let output = '';
  const child: ChildProcess = spawn(
    bin,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const keep = (d: Buffer) => {
    output = (output + d).slice(-8000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const url = `http://127.0.0.1:${port}`;
  await waitForPort(port, 60_000, () =>
    child.exitCode !== null ? `Prometheus exited (${child.exitCode}): ${output}` : undefined,
  );
  const value = async (query: string) => {
    const res = await fetch(`${url}/api/v1/query?query=${encodeURIComponent(query)}`);
    const body = (await res.json()) as { data: { result: { value: [number, string] }[] } };
    const first = body.data.result[0];
    return first ? Number(first.value[1]) : null;
  };
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  return {
    url,
    value,
    stop,
    destroy: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
