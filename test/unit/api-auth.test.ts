import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load-config.js';
import { DriverRegistry } from '../../src/drivers/registry.js';
import { assertCanOperate, assertCanRead, bearerOf, callerOf } from '../../src/http/auth.js';
import type { PresetSummary } from '../../src/http/views.js';
import { html } from '../../src/panel/html.js';
import { PANEL_ROWS, presetsBody } from '../../src/panel/panel-pages.js';

const registry = new DriverRegistry([process.cwd()]);
const base = 'presets: {driver: DirectoryDriver, path: presets}\n';
const http = async (block: string) => {
  const { config, errors } = await parseConfig(`${base}${block}`, 'settings.yaml', registry, { env: {} });
  return { http: config?.http, errors };
};

describe('API tokens', () => {
  const secret = 'a-long-operate-token-42';
  it('keeps tokens as SHA-256 hashes and accepts a token given by its hash', async () => {
    const sha = createHash('sha256').update(secret).digest('hex');
    const { http: h } = await http(
      `http:\n  tokens:\n    - {name: ops, role: operate, sha256: ${sha}}\n    - {name: ro, role: read, token: read-token-0123456789}\n`,
    );
    expect(JSON.stringify(h)).not.toContain('read-token-0123456789');
    expect(callerOf(h!, secret)).toEqual({ name: 'ops', role: 'operate' });
    expect(callerOf(h!, 'read-token-0123456789')).toEqual({ name: 'ro', role: 'read' });
    expect(callerOf(h!, undefined)).toEqual({ name: 'anonymous', role: null });
    expect(() => callerOf(h!, 'nope')).toThrow(expect.objectContaining({ code: 'api_auth_0002' }));
    expect(h!.openReads).toBe(false);
    expect(() => assertCanRead(h!, { name: 'anonymous', role: null })).toThrow(
      expect.objectContaining({ code: 'api_auth_0001' }),
    );
    expect(() => assertCanOperate(h!, { name: 'ro', role: 'read' })).toThrow(
      expect.objectContaining({ code: 'api_auth_0003' }),
    );
  });

  it('opens reads and refuses actions with a how-to when no token is configured', async () => {
    const { http: h } = await http('http: {listen_port: 0}\n');
    expect(h!.openReads).toBe(true);
    expect(() => assertCanRead(h!, { name: 'anonymous', role: null })).not.toThrow();
    expect(() => assertCanOperate(h!, { name: 'anonymous', role: null })).toThrow(
      expect.objectContaining({ code: 'api_auth_0004' }),
    );
  });

  it('rejects short tokens and tokens given twice, at their position', async () => {
    const short = await http('http:\n  tokens:\n    - {name: ops, role: operate, token: short}\n');
    expect(short.errors[0]).toMatchObject({ code: 'config_load_1002' });
    expect(short.errors[0]!.message).toContain('settings.yaml:4:');
    const both = await http(
      `http:\n  tokens:\n    - {name: ops, role: operate, token: ${secret}, sha256: "${'0'.repeat(64)}"}\n`,
    );
    expect(both.errors[0]!.message).toContain('exactly one of token or sha256');
    const role = await http(`http:\n  tokens:\n    - {name: ops, role: admin, token: ${secret}}\n`);
    expect(role.errors[0]).toMatchObject({ code: 'config_load_1002' });
  });

  it('reads the bearer from the header first, then from the panel cookie', () => {
    expect(bearerOf('Bearer abc', 'vmshepherd_token=def')).toBe('abc');
    expect(bearerOf(undefined, 'x=1; vmshepherd_token=d%3Def')).toBe('d=ef');
    expect(bearerOf('Basic abc', undefined)).toBeUndefined();
  });
});

describe('panel HTML', () => {
  it('escapes every interpolated value (names, tags, messages come from preset files and the cloud)', () => {
    const evil = '<script>alert("x")</script>';
    const out = html`<td title="${evil}">${evil}${[evil, 1]}</td>`.value;
    expect(out).not.toContain('<script>');
    expect(out).toBe(
      '<td title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;">&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;1</td>',
    );
    expect(html`<b>${html`<i>${'&'}</i>`}</b>`.value).toBe('<b><i>&amp;</i></b>');
  });

  it('lists presets needing attention first and counts the rows past the cap', () => {
    const summary = (i: number, phase: PresetSummary['phase']): PresetSummary => ({
      name: `p${String(i).padStart(3, '0')}`,
      count: 2,
      phase,
      message: '',
      counts: { running: 2 },
      unhealthy: 0,
      guard: false,
      paused: false,
      unmanaged: false,
      revision: 'r',
      lastManagedAt: null,
      lastManagedBy: null,
      nextManageAt: null,
    });
    const presets = Array.from({ length: PANEL_ROWS + 20 }, (_, i) =>
      summary(i, i === PANEL_ROWS + 10 ? 'failing' : 'converged'),
    );
    const out = presetsBody(presets, '', Date.now()).value;
    const rows = [...out.matchAll(/<tr data-name="(p\d+)"/g)].map((m) => m[1]);
    expect(rows).toHaveLength(PANEL_ROWS);
    expect(rows[0]).toBe(`p${PANEL_ROWS + 10}`); // the failing one, first
    expect(out).toContain('20 more presets (20 converged) not listed');
  });
});
