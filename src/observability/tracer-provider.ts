import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';
import type { TracingOptions } from './tracing.js';

/** A registered provider exporting over OTLP/HTTP (or to the given exporter, at once). */
export function tracerProvider(o: TracingOptions): NodeTracerProvider {
  const exporter =
    o.exporter ??
    new OTLPTraceExporter({
      ...(o.endpoint ? { url: o.endpoint } : {}),
      ...(o.headers ? { headers: o.headers } : {}),
    });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': o.serviceName, 'service.instance.id': o.instanceId }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(o.sampleRatio) }),
    spanProcessors: [o.exporter ? new SimpleSpanProcessor(exporter) : new BatchSpanProcessor(exporter)],
  });
  provider.register();
  return provider;
}
