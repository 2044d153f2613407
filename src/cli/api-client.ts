import { CODES, isErrorCode } from '../errors/codes.js';
import { ShepherdError } from '../errors/shepherd-error.js';

export interface ApiTarget {
  url: string;
  token: string | undefined;
}

/** --url and --token, else VMSHEPHERD_URL and VMSHEPHERD_TOKEN, else the default local daemon. */
export function apiTarget(o: { url?: string; token?: string }, env = process.env): ApiTarget {
  return {
    url: (o.url ?? env.VMSHEPHERD_URL ?? 'http://127.0.0.1:8888').replace(/\/+$/, ''),
    token: o.token ?? env.VMSHEPHERD_TOKEN,
  };
}

/** Calls the REST API; an error answer becomes the ShepherdError with the server's code. */
export async function callApi<T>(
  target: ApiTarget,
  method: string,
  path: string,
  extraHeaders: Record<string, string> = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`${target.url}${path}`, {
      method,
      headers: { ...extraHeaders, ...(target.token ? { authorization: `Bearer ${target.token}` } : {}) },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new ShepherdError('cli_api_2001', `${target.url}: ${(err as Error).message}`, { cause: err });
  }
  const body = (await res.json().catch(() => ({}))) as { error?: { code: string; message: string } };
  if (!res.ok) {
    const e = body.error;
    if (!e) throw new ShepherdError('cli_api_2001', `${target.url}: HTTP ${res.status}`);
    throw new ShepherdError(e.code, detailOf(e.code, e.message));
  }
  return body as T;
}

/** The server's message without the catalogue text and code the local error adds back. */
function detailOf(code: string, message: string): string | undefined {
  const text = message.replace(` [${code}]`, '');
  const base = isErrorCode(code) ? CODES[code].message : code;
  if (text === base) return undefined;
  return text.startsWith(`${base}: `) ? text.slice(base.length + 2) : text;
}
