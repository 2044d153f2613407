import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BatchSpanProcessor,
  NodeTracerProvider,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-node';

export interface TracingOptions {
  /** OTLP/HTTP traces endpoint, e.g. http://127.0.0.1:4318/v1/traces (default: the OTEL_* environment). */
  endpoint?: string;
  headers?: Record<string, string>;
  serviceName: string;
  instanceId: string;
  /** Share of traces kept (1 = all). */
  sampleRatio: number;
  /** Tests: where spans go instead of OTLP (exported at once). */
  exporter?: SpanExporter;
}

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
