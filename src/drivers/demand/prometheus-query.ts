import { ShepherdError } from '../../errors/shepherd-error.js';

/** Where a count that follows demand reads its value (docs/demand.md). */
export interface PrometheusQuery {
  url: string;
  query: string;
  timeoutMs: number;
}

interface ApiAnswer {
  status?: string;
  error?: string;
  data?: { resultType?: string; result?: unknown };
}

/**
 * One instant query (`/api/v1/query`): its single value. A failure (unreachable, slow, refused, no sample,
 * several series, not a number) throws, and the caller holds its count. Credentials in the URL are sent
 * as basic auth and never appear in an error.
 */
export async function queryPrometheus(q: PrometheusQuery, signal?: AbortSignal): Promise<number> {
  const base = new URL(q.url);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (base.username || base.password) {
    const user = `${decodeURIComponent(base.username)}:${decodeURIComponent(base.password)}`;
    headers.authorization = `Basic ${Buffer.from(user).toString('base64')}`;
    base.username = '';
    base.password = '';
  }
  const endpoint = new URL('api/v1/query', base.href.endsWith('/') ? base.href : `${base.href}/`);
  const where = `${endpoint.origin}${endpoint.pathname}`;
  const timeout = AbortSignal.timeout(q.timeoutMs);
  let res: Response;
  let answer: ApiAnswer | null;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers,
      body: new URLSearchParams({ query: q.query }),
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    });
    answer = (await res.json().catch(() => null)) as ApiAnswer | null;
  } catch (err) {
    const why = timeout.aborted ? `no answer within ${q.timeoutMs} ms` : (err as Error).message;
    throw new ShepherdError('reconcile_demand_2001', `${where}: ${why}`, { cause: err });
  }
  if (!res.ok || answer?.status !== 'success')
    throw new ShepherdError(
      'reconcile_demand_0001',
      `${where}: HTTP ${res.status} ${answer?.error ?? ''}`.trim(),
    );
  return sampleValue(answer.data, where);
}

/** The one value of a scalar or a one-sample vector. */
function sampleValue(data: ApiAnswer['data'], where: string): number {
  const fail = (why: string) => new ShepherdError('reconcile_demand_0001', `${where}: ${why}`);
  let sample: unknown;
  if (data?.resultType === 'scalar') sample = data.result;
  else if (data?.resultType === 'vector' && Array.isArray(data.result)) {
    if (data.result.length === 0) throw fail('the query returned no sample');
    if (data.result.length > 1) throw fail(`the query returned ${data.result.length} series (sum() them)`);
    sample = (data.result[0] as { value?: unknown }).value;
  } else throw fail(`the query returned a ${data?.resultType ?? 'malformed'} result, not one value`);
  const value = Array.isArray(sample) ? Number.parseFloat(String(sample[1])) : Number.NaN;
  if (!Number.isFinite(value))
    throw fail(`the query returned ${Array.isArray(sample) ? sample[1] : 'no value'}`);
  return value;
}
