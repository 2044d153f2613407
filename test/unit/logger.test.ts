import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { ShepherdError } from '../../src/errors/shepherd-error.js';
import { createLogger } from '../../src/observability/logger.js';

const SECRET = 'pa55-deep-secret-7f3a';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', instance: 't', pretty: false, destination }), lines };
}

describe('log redaction', () => {
  it('censors the known secret keys at any depth, in fields, bindings and errors', async () => {
    const { logger, lines } = capture();
    const deep = { a: { b: { c: { d: { password: SECRET, kept: 'visible' } } } } };
    const list = { items: [{ x: [{ y: { application_credential_secret: SECRET } }] }] };
    logger.info({ deep, list, token: SECRET }, 'fields');
    logger.child({ driver: { conf: { nested: { auth: { password: SECRET } } } } }).info('bindings');
    const err = new ShepherdError('reconcile_manage_1001', 'boom', {
      details: { request: { headers: { body: { secret: SECRET } } } },
    });
    logger.error({ err }, 'error');
    await new Promise<void>((done) => logger.flush(() => done()));
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).not.toContain(SECRET);
    const fields = JSON.parse(lines[0]!);
    expect(fields.deep.a.b.c.d).toEqual({ password: '[redacted]', kept: 'visible' });
    expect(fields.list.items[0].x[0].y.application_credential_secret).toBe('[redacted]');
    expect(fields.token).toBe('[redacted]');
    expect(JSON.parse(lines[1]!).driver.conf.nested.auth).toBe('[redacted]');
    expect(JSON.parse(lines[2]!).err.details.request.headers.body.secret).toBe('[redacted]');
    // The caller's objects are left as they were.
    expect(deep.a.b.c.d.password).toBe(SECRET);
  });

  it('logs a cyclic or very deep object without failing', async () => {
    const { logger, lines } = capture();
    const cyclic: Record<string, unknown> = { name: 'loop' };
    cyclic.self = cyclic;
    logger.info({ cyclic }, 'cycle');
    await new Promise<void>((done) => logger.flush(() => done()));
    expect(JSON.parse(lines[0]!).cyclic.name).toBe('loop');
  });
});
