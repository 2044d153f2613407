import { type Logger, pino } from 'pino';
import type { LogLevel } from '../config/config-schema.js';
import { traceFields } from './tracing.js';

/**
 * Keys whose values never reach a log line, wherever they appear. Driver options are never logged as a
 * whole; this is the second line of defence.
 */
export const REDACTED_KEYS = [
  'password',
  'secret',
  'token',
  'api_key',
  'api_secret',
  'auth',
  'addauth',
  'application_credential_secret',
  'options',
];

export interface LoggerOptions {
  level: LogLevel;
  instance: string;
  /** Human-readable output; default: when stdout is a terminal. */
  pretty?: boolean;
  /** Where JSON lines go (tests); default stdout. */
  destination?: NodeJS.WritableStream;
}

/** pino, JSON by default and pretty on a terminal; every line carries the instance id. */
export function createLogger(o: LoggerOptions): Logger {
  const pretty = o.pretty ?? Boolean(process.stdout.isTTY);
  const redact = { paths: REDACTED_KEYS.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]), censor: '[redacted]' };
  const base = { instance: o.instance };
  if (pretty && !o.destination) {
    return pino({
      level: o.level,
      base,
      redact,
      mixin: traceFields,
      transport: {
        target: 'pino-pretty',
        options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
      },
    });
  }
  return pino(
    { level: o.level, base, redact, mixin: traceFields, timestamp: pino.stdTimeFunctions.isoTime },
    o.destination ?? pino.destination(1),
  );
}
