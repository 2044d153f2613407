import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-node';
import { describe, expect, it } from 'vitest';
import { Daemon } from '../../src/daemon/daemon.js';
import { testDaemon } from '../helpers/daemon.js';

const exporter = new InMemorySpanExporter();

const settings = (iaas: string) => `
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: DummyIaasDriver, latency: 0, boot_time: 0${iaas}}
`;

async function daemonWithSpans(iaas: string) {
  const t = await testDaemon(settings(iaas), { 'a.conf': 'name: a\ncount: 2\nmanage_interval: 0\n' });
  await t.daemon.stop();
  // Same directory, with the test exporter: spans go to memory.
  const daemon = await Daemon.create({
    configFile: `${t.dir}/settings.yaml`,
    logDestination: {
      write: (line: string) => t.logs.push(JSON.parse(line)),
    } as unknown as NodeJS.WritableStream,
    pretty: false,
    spanExporter: exporter,
  });
  return { daemon, logs: t.logs };
}

describe('traces', () => {
  it('has a span per cycle, per manage under it, and per cloud call under the manage; log lines carry the trace id', async () => {
    exporter.reset();
    const { daemon, logs } = await daemonWithSpans('');
    try {
      await daemon.runOnce();
    } finally {
      await daemon.stop();
    }
    const spans = exporter.getFinishedSpans();
    const cycle = spans.find((s) => s.name === 'vmshepherd.cycle')!;
    const manage = spans.find((s) => s.name === 'vmshepherd.manage')!;
    const creates = spans.filter((s) => s.name === 'vmshepherd.cloud.create');
    expect(cycle).toBeDefined();
    expect(manage.parentSpanContext?.spanId).toBe(cycle.spanContext().spanId);
    expect(manage.attributes).toMatchObject({
      'vmshepherd.preset': 'a',
      'vmshepherd.result': 'managed',
      'vmshepherd.created': 2,
    });
    expect(creates).toHaveLength(2);
    for (const c of creates) expect(c.parentSpanContext?.spanId).toBe(manage.spanContext().spanId);
    const created = logs.filter((l) => l.msg === 'created VM');
    expect(created).toHaveLength(2);
    for (const l of created) expect(l.trace_id).toBe(cycle.spanContext().traceId);
  });

  it('marks failed spans with the error code', async () => {
    exporter.reset();
    const { daemon } = await daemonWithSpans(', error_rate: 1');
    try {
      await daemon.runOnce();
    } finally {
      await daemon.stop();
    }
    const spans = exporter.getFinishedSpans();
    const manage = spans.find((s) => s.name === 'vmshepherd.manage')!;
    expect(manage.status.code).toBe(2); // ERROR
    expect(manage.attributes['error.code']).toBe('dummy_call_2001');
    const calls = spans.filter((s) => s.name.startsWith('vmshepherd.cloud.'));
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every((s) => s.status.code === 2 && s.attributes['error.code'] === 'dummy_call_2001')).toBe(
      true,
    );
  });
});
