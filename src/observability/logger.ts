import { type Logger, pino } from 'pino';
import { censorSecrets } from './censor-secrets.js';
import { traceFields } from './tracing.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export { REDACTED_KEYS } from './censor-secrets.js';

export interface LoggerOptions {
  level: LogLevel;
  instance: string;
  /** Human-readable output; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Where JSON lines go (tests); default stdout. */
  destination?: NodeJS.WritableStream;
}

/**
 * pino, JSON by default and pretty on a terminal; every line carries the instance id. Secrets are censored
 * at any depth (censorSecrets) in every line's fields, a child logger's bindings and a logged error's
 * serialized fields: pino's own `redact` reaches fixed depths only, and costs more (its wildcard paths
 * stringify every field through it).
 */
export function createLogger(o: LoggerOptions): Logger {
  const pretty = o.pretty ?? Boolean(process.stdout.isTTY);
  const formatters = { log: censorSecrets };
  const serializers = { err: (e: Error) => censorSecrets(pino.stdSerializers.err(e)) };
  const base = { instance: o.instance };
  const logger =
    pretty && !o.destination
      ? pino({
          level: o.level,
          base,
          formatters,
          serializers,
          mixin: traceFields,
          transport: {
            target: 'pino-pretty',
            options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
          },
        })
      : pino(
          {
            level: o.level,
            base,
            formatters,
            serializers,
            mixin: traceFields,
            timestamp: pino.stdTimeFunctions.isoTime,
          },
          o.destination ?? pino.destination(1),
        );
  // pino formats a child's bindings once, without the log formatter: they are censored on the way in.
  // Children inherit this method (a child's prototype is its parent).
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, censorSecrets(bindings), options);
  } as Logger['child'];
  return logger;
}
