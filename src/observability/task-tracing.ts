import {
  type Attributes,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { asShepherdError } from '../errors/shepherd-error.js';
import { failSpan } from './tracing.js';

const TRACER = 'vmshepherd';

/** W3C Trace Context headers (https://www.w3.org/TR/trace-context/), as a request carried them. */
export interface TraceContext {
  traceparent: string;
  tracestate?: string;
}

/** What a task's span shows of it (the runtime store's task record has these fields). */
export interface SpanTask {
  id: string;
  preset: string;
  verb: string;
  vm?: string;
  attempts: number;
  state: string;
  error?: { code: string; message: string };
  trace?: TraceContext;
}

/**
 * Runs a request's handler in a server span, the child of the caller's `traceparent` when it sent one, so
 * a task it submits can point back at it. A no-op while tracing is off.
 */
export function inRequestSpan<T>(
  method: string,
  route: string,
  headers: Record<string, unknown>,
  fn: () => Promise<T>,
): Promise<T> {
  const parent = propagation.extract(context.active(), headers);
  const attributes = { 'http.request.method': method, 'http.route': route };
  return trace
    .getTracer(TRACER)
    .startActiveSpan(`${method} ${route}`, { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
      try {
        return await fn();
      } catch (err) {
        failSpan(span, asShepherdError(err, 'observability_span_1001'));
        throw err;
      } finally {
        span.end();
      }
    });
}

/**
 * The active span's W3C trace context, kept in a task so that its executor (maybe another instance, maybe
 * after a restart) can link its spans to the request. Undefined while tracing is off.
 */
export function activeTraceContext(): TraceContext | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(context.active(), carrier);
  if (!carrier.traceparent) return undefined;
  return {
    traceparent: carrier.traceparent,
    ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}),
  };
}

/** The link to the request that submitted the task, when it was traced. */
function requestLink(task: SpanTask): Link[] {
  if (!task.trace) return [];
  const span = trace.getSpanContext(propagation.extract(ROOT_CONTEXT, { ...task.trace }));
  return span ? [{ context: span, attributes: { 'vmshepherd.link': 'submitted by' } }] : [];
}

/**
 * A span for one attempt at running a task, under the active span (the manage that holds the lease) and
 * linked to the submitting request. Ids only: who asked (`by`) and the task's data stay in the record.
 */
export function startTaskSpan(task: SpanTask, instanceId: string): Span {
  const attributes: Attributes = {
    'vmshepherd.task.id': task.id,
    'vmshepherd.preset': task.preset,
    'vmshepherd.verb': task.verb,
    'vmshepherd.instance': instanceId,
    ...(task.vm ? { 'vmshepherd.vm': task.vm } : {}),
  };
  return trace.getTracer(TRACER).startSpan(`task ${task.verb}`, { attributes, links: requestLink(task) });
}

/** Ends a task's span with the state the attempt left it in (an ended task that failed is an error). */
export function endTaskSpan(span: Span, task: SpanTask, went: string): void {
  span.setAttributes({
    'vmshepherd.task.attempt': task.attempts,
    'vmshepherd.task.state': task.state,
    'vmshepherd.task.outcome': went,
  });
  if (task.state === 'failed' && task.error) {
    span.setAttribute('error.code', task.error.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${task.error.code}: ${task.error.message}` });
  }
  span.end();
}

/** Runs `fn` with `span` active: spans started in it (steps, cloud calls) are its children. */
export function withSpan<T>(span: Span, fn: () => Promise<T>): Promise<T> {
  return context.with(trace.setSpan(context.active(), span), fn);
}

/**
 * Runs one step of a task in a child span of the active (task) span; `outcome` reads what the step
 * returned (done or skipped). A throw is `failed` with its catalogue code, and is rethrown.
 */
export function inStepSpan<T>(
  name: string,
  outcome: (result: T) => 'done' | 'skipped',
  fn: () => Promise<T>,
): Promise<T> {
  const attributes = { 'vmshepherd.task.step': name };
  return trace.getTracer(TRACER).startActiveSpan(`task step ${name}`, { attributes }, async (span) => {
    try {
      const result = await fn();
      span.setAttribute('vmshepherd.task.step.outcome', outcome(result));
      return result;
    } catch (err) {
      span.setAttribute('vmshepherd.task.step.outcome', 'failed');
      failSpan(span, asShepherdError(err, 'observability_span_1001'));
      throw err;
    } finally {
      span.end();
    }
  });
}
