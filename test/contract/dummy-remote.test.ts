import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dummyOptionsSchema } from '../../src/drivers/iaas/dummy/options.js';
import { remoteDummyDriver } from '../../src/drivers/iaas/dummy/remote.js';
import { createSimulatorServer, listingEnd } from '../../src/drivers/iaas/dummy/simulator-server.js';
import { iaasContract, specFor } from '../../src/testing/iaas-contract.js';
import { systemClock } from '../../src/util/clock.js';
import { NDJSON } from '../../src/util/ndjson.js';

const TOKEN = 'contract-token';

/** A simulator on 127.0.0.1 and the driver that talks to it over HTTP. */
async function remoteSubject() {
  const server = await createSimulatorServer(
    dummyOptionsSchema.parse({ latency: 0, boot_time: 0.05 }),
    systemClock,
    TOKEN,
  );
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const driver = remoteDummyDriver(url, TOKEN);
  return {
    server,
    driver,
    close: async () => {
      await driver.close?.();
      await server.close();
    },
  };
}

iaasContract('DummyIaasDriver through `vmshepherd simulator`', remoteSubject, { bootTimeoutMs: 2000 });

describe('the whole-account listing streamed by the simulator', () => {
  const closers: (() => Promise<unknown> | unknown)[] = [];
  afterEach(async () => {
    for (const close of closers.splice(0)) await close();
  });

  /** A simulator holding `n` VMs spread over 7 presets named `prefix`0..6, closed after the test. */
  async function holding(n: number, prefix: string) {
    const s = await remoteSubject();
    closers.push(s.close);
    for (let i = 0; i < n; i++) await s.server.cloud.create(specFor(`${prefix}${i % 7}`, {}), `k${i}`);
    return s;
  }

  it('arrives whole, line by line, across many chunks', async () => {
    const s = await holding(600, 'p');
    const listed = await s.driver.listAll?.();
    const expected = await s.server.cloud.listAll();
    // Ids in order (states move on between the two calls: the VMs are booting).
    expect(listed).toHaveLength(600);
    expect(listed?.map((v) => v.id)).toEqual(expected.map((v) => v.id));
    expect(listed?.[599]).toMatchObject({ name: expected[599]?.name, metadata: expected[599]?.metadata });
  });

  it('arrives grouped by preset, each preset decoded when taken, each VM as the cloud has it', async () => {
    const s = await holding(300, 'g');
    await new Promise((r) => setTimeout(r, 200)); // all booted (0.05 s): the two listings can agree
    const groups = await s.driver.listAllByPreset?.();
    const expected = await s.server.cloud.listAllByPreset();
    expect([...(groups?.keys() ?? [])].sort()).toEqual([...expected.keys()].sort());
    // Sent packed (what a preset's VMs have alike once per line: preset-group.ts), read back whole.
    for (const [preset, vms] of expected) expect(groups?.get(preset)?.()).toEqual(vms());
  });

  /** A server that answers listAll with `body` as NDJSON, then ends or cuts the connection. */
  async function answering(body: string, cut: boolean) {
    const http = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': NDJSON });
      res.write(body);
      if (cut) setTimeout(() => res.socket?.destroy(), 20);
      else res.end();
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    const driver = remoteDummyDriver(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, TOKEN);
    closers.push(
      () => driver.close?.(),
      () => new Promise((r) => http.close(r)),
    );
    return driver;
  }
  const line = (id: string) =>
    `${JSON.stringify({ id, name: id, state: 'running', ips: [], metadata: {} })}\n`;

  it.each([
    ['the connection drops mid-stream', `${line('a')}${line('b')}{"id":"c","na`, true],
    ['the stream ends without its end line', `${line('a')}${line('b')}`, false],
    ['the end line counts other VMs', `${line('a')}${JSON.stringify(listingEnd(2))}\n`, false],
    ['a line is not JSON', `${line('a')}{oops\n${JSON.stringify(listingEnd(1))}\n`, false],
    ['a line follows the end line', `${line('a')}${JSON.stringify(listingEnd(1))}\n${line('b')}`, false],
  ])('is an error, never a shorter listing, when %s', async (_why, body, cut) => {
    const driver = await answering(body, cut);
    await expect(driver.listAll?.()).rejects.toMatchObject({ code: 'dummy_call_2003' });
  });

  const group = (preset: string) => `${JSON.stringify({ preset, vms: [JSON.parse(line(`${preset}-1`))] })}\n`;
  it.each([
    ['the connection drops mid-stream', `${group('a')}{"preset":"b","vms":[{"id"`, true],
    ['the stream ends without its end line', `${group('a')}${group('b')}`, false],
    ['a line has no preset', `${group('a')}{"vms":[]}\n${JSON.stringify(listingEnd(2))}\n`, false],
  ])('grouped: is an error when %s', async (_why, body, cut) => {
    const driver = await answering(body, cut);
    await expect(driver.listAllByPreset?.()).rejects.toMatchObject({ code: 'dummy_call_2003' });
  });

  it("grouped: a preset's line that is not JSON fails when that preset takes it, not the others", async () => {
    const broken = '{"preset":"b","vms":[{"id":}\n';
    const driver = await answering(`${group('a')}${broken}${JSON.stringify(listingEnd(2))}\n`, false);
    const groups = await driver.listAllByPreset?.();
    expect(groups?.get('a')?.()).toHaveLength(1);
    expect(() => groups?.get('b')?.()).toThrow(expect.objectContaining({ code: 'dummy_call_2003' }));
  });
});

describe("the simulator's watch over what the daemons do (fault tests read it)", () => {
  it('counts creates and terminates by preset, keeps each preset’s most VMs at once, and starts again on reset', async () => {
    const s = await remoteSubject();
    try {
      type Stats = Record<'maxPerPreset' | 'creates' | 'terminates', Record<string, number>>;
      const stats = async (path = '/v1/stats', method = 'GET'): Promise<Stats> => {
        const res = await fetch(`${s.server.app.listeningOrigin}${path}`, {
          method,
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        return (await res.json()) as Stats;
      };
      const made = [];
      for (let i = 0; i < 3; i++)
        made.push(await s.driver.create(specFor('w', {}), { idempotencyKey: `w${i}` }));
      await s.driver.create(specFor('v', {}), { idempotencyKey: 'v0' });
      await s.driver.terminate(made[0]!.id);
      expect(await stats()).toMatchObject({
        maxPerPreset: { w: 3, v: 1 },
        creates: { w: 3, v: 1 },
        terminates: { w: 1 },
      });
      // The reset answers what was counted until then; the maxima start again from what each preset has.
      expect(await stats('/v1/stats/reset', 'POST')).toMatchObject({ creates: { w: 3, v: 1 } });
      const after = await stats();
      expect(after.creates).toEqual({});
      expect(after.terminates).toEqual({});
      expect(after.maxPerPreset.v).toBe(1);
      expect(after.maxPerPreset.w).toBeLessThanOrEqual(3);
    } finally {
      await s.close();
    }
  });
});
