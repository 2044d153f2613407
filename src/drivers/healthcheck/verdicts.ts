import type { HealthResult } from '../types.js';

const TIMEOUT_CODES = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
  'ABORT_ERR',
]);

/** A failed attempt as a verdict: timeouts and aborts get the timeout code, the rest the connection code. */
export function unhealthyFromError(
  err: unknown,
  what: string,
  startedAt: number,
  timeoutCode: string,
  failCode: string,
): HealthResult {
  const e = err as { code?: string; name?: string; message?: string; cause?: { code?: string } };
  const code = e.code ?? e.cause?.code ?? e.name ?? 'error';
  const timedOut = TIMEOUT_CODES.has(code) || e.name === 'AbortError' || e.name === 'TimeoutError';
  return {
    verdict: 'unhealthy',
    reason: `${what}: ${timedOut ? 'timed out' : (e.message ?? code)} (${code})`,
    code: timedOut ? timeoutCode : failCode,
    latencyMs: performance.now() - startedAt,
  };
}

export function noIp(): HealthResult {
  return {
    verdict: 'unhealthy',
    reason: 'the VM has no IP address',
    code: 'health_check_0001',
    latencyMs: 0,
  };
}

export function hostForUrl(ip: string): string {
  return ip.includes(':') ? `[${ip}]` : ip;
}
