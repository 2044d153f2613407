import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';
import type { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';
import { asShepherdError, type ShepherdError } from '../errors/shepherd-error.js';
import type { TracingOptions } from './tracer-provider.js';

export type { TracingOptions } from './tracer-provider.js';

const TRACER = 'vmshepherd';

let provider: NodeTracerProvider | undefined;

/**
 * Starts tracing for this process: spans are exported over OTLP/HTTP, and the context manager makes the
 * active span follow async calls (so log lines can carry its trace id). Once per process; without it,
 * every span call is a no-op that costs next to nothing. The SDK is imported here, not at start-up: a
 * daemon that does not trace spares its memory (docs/performance.md).
 */
export async function startTracing(o: TracingOptions): Promise<NodeTracerProvider> {
  if (!provider) {
    const { tracerProvider } = await import('./tracer-provider.js');
    provider ??= tracerProvider(o);
  }
  return provider;
}

/** Flushes and stops the exporter (on daemon stop). */
export async function stopTracing(): Promise<void> {
  await provider?.forceFlush();
}

/** True when the environment configures an OTLP endpoint for traces. */
export function tracingFromEnv(env: NodeJS.ProcessEnv): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ?? env.OTEL_EXPORTER_OTLP_ENDPOINT);
}

/**
 * Runs `fn` in a new active span. A failure ends the span with status ERROR and the error's catalogue code
 * (`error.code`), and is rethrown.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer(TRACER).startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      failSpan(span, asShepherdError(err, 'observability_span_1001'));
      throw err;
    } finally {
      span.end();
    }
  });
}

/** Marks a span failed with the error's code (for failures reported as values, not thrown). */
export function failSpan(span: Span, error: ShepherdError): void {
  span.setAttribute('error.code', error.code);
  span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.code}: ${error.message}` });
  span.recordException(error);
}

/** Trace and span id of the active span, for log lines (empty when tracing is off). */
export function traceFields(): { trace_id?: string; span_id?: string } {
  const span = trace.getActiveSpan();
  if (!span) return {};
  const { traceId, spanId, traceFlags } = span.spanContext();
  return traceFlags & 1 ? { trace_id: traceId, span_id: spanId } : {};
}
