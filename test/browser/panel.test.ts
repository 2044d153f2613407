import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../src/http/server.js';
import {
  type ApiFixture,
  apiFixture,
  OPERATE_TOKEN,
  READ_TOKEN,
  settings,
  tokensBlock,
} from '../helpers/api.js';
import { type Browser, launchChromium } from '../helpers/chromium.js';
import { cloudVms, eventually, running } from '../helpers/daemon.js';

const SHOTS = join(process.cwd(), 'test-results');

/** A small fleet: web and worker (every third worker turns sick and stays: no termination), plus services. */
const presets: Record<string, string> = {
  'web.conf': `name: web
count: 4
image: ubuntu-24.04
flavor: m1.small
manage_interval: 0
meta_tags: {team: storefront, tier: web}
panel_links: {status: "http://ip:8080/status", ssh: "ssh://ip"}
userdata: "#cloud-config\\nhostname: web\\n"
`,
  'worker.conf': `name: worker
count: 3
image: ubuntu-24.04
flavor: m1.medium
manage_interval: 0
healthcheck: {driver: DummyHealthcheck, sick_every: 3, unhealthy_after: 1, unhealthy_threshold: 2, max_unhealthy: 3}
`,
};
for (let i = 1; i <= 14; i++) {
  const n = String(i).padStart(2, '0');
  presets[`svc-${n}.conf`] =
    `name: svc-${n}\ncount: ${1 + (i % 3)}\nimage: debian-12\nflavor: m1.tiny\nmanage_interval: 0\n`;
}

describe('the panel in a browser', () => {
  let f: ApiFixture;
  let server: FastifyInstance;
  let browser: Browser;
  let page: Page;
  let base: string;

  const shot = (name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });

  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    f = await apiFixture(
      settings(tokensBlock(), 'DummyIaasDriver, latency: 0.005, boot_time: {min: 0.3, max: 1.2}'),
      presets,
    );
    server = await startServer(f.daemon);
    base = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}`;
    await f.daemon.start();
    browser = await launchChromium();
    page = await browser.context.newPage();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
    await f?.close();
  });

  it('sends an anonymous browser to sign in, and lists every preset with its status once signed in', async () => {
    await page.goto(`${base}/`);
    expect(page.url()).toBe(`${base}/login`);
    await page.fill('input[name=token]', READ_TOKEN);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/`);
    await expect.poll(() => page.locator('#presets tbody tr').count()).toBe(16);
    // Live: the list converges without a reload.
    await expect
      .poll(() => page.locator('#presets tr.row-converged').count(), { timeout: 20_000 })
      .toBeGreaterThanOrEqual(15);
    expect(await page.locator('header .who').textContent()).toContain('reader · read-only');
    await shot('panel-presets');
    await page.fill('#q', 'svc-1');
    expect(await page.locator('#presets tbody tr:not([hidden])').count()).toBe(5);
    await shot('panel-presets-filtered');
    await page.fill('#q', '');
  });

  it('shows a worker VM turning unhealthy, with its health history and reason', async () => {
    await page.goto(`${base}/presets/worker`);
    const sick = page.locator('#vms tbody tr td.n.bad');
    await expect.poll(() => sick.count(), { timeout: 20_000 }).toBeGreaterThan(0);
    await expect
      .poll(() => page.locator('#vms .hist i.h-bad').count(), { timeout: 20_000 })
      .toBeGreaterThan(1);
    expect(await page.locator('#vms tbody').textContent()).toContain('dummy_check_0001');
    // A read token sees the buttons, disabled, with the reason.
    const terminate = page.locator('#vms button', { hasText: 'terminate' }).first();
    expect(await terminate.isDisabled()).toBe(true);
    expect(await page.locator('.phase.big').textContent()).toBe('degraded');
    await shot('panel-worker-unhealthy');
  });

  it('lets an operator terminate a VM after confirming, and shows its replacement', async () => {
    await page.goto(`${base}/login`);
    await page.fill('input[name=token]', OPERATE_TOKEN);
    await page.click('form[action="/login"] button[type=submit]');
    await page.waitForURL(`${base}/`);
    await page.goto(`${base}/presets/web`);
    await expect.poll(() => page.locator('#vms tbody tr.vm-running').count(), { timeout: 20_000 }).toBe(4);
    const row = page.locator('#vms tbody tr').first();
    const victim = (await row.getAttribute('data-vm')) as string;
    await row.locator('button', { hasText: 'terminate' }).click();
    const dialog = page.locator('dialog#confirm');
    await expect.poll(() => dialog.isVisible()).toBe(true);
    expect(await dialog.textContent()).toContain(`Terminate VM ${victim} of web?`);
    await shot('panel-confirm-terminate');
    // Cancel first: nothing happens.
    await dialog.locator('button[value=cancel]').click();
    await page.waitForTimeout(300);
    expect(
      cloudVms()
        .get('web')!
        .some((v) => v.id === victim && v.state === 'running'),
    ).toBe(true);
    await row.locator('button', { hasText: 'terminate' }).click();
    await dialog.locator('#confirm-ok').click();
    await expect.poll(() => page.locator('#toast').textContent()).toContain(`terminate of ${victim}`);
    await expect
      .poll(() => page.locator(`#vms tr[data-vm="${victim}"]`).count(), { timeout: 10_000 })
      .toBe(0);
    await eventually(
      () => cloudVms().get('web'),
      (v) => running(v) === 4,
      20_000,
    );
    await expect.poll(() => page.locator('#vms tbody tr.vm-running').count(), { timeout: 20_000 }).toBe(4);
    expect(await page.locator('#events').textContent()).toContain('terminated by ops');
    await shot('panel-web-replaced');
  });

  it('runs a verb from the panel as a task, shown on the preset page and the tasks view', async () => {
    await page.goto(`${base}/presets/web`);
    const row = page.locator('#vms tbody tr.vm-running').nth(1);
    const vm = (await row.getAttribute('data-vm')) as string;
    await row.locator('button', { hasText: 'quiesce' }).click();
    await page.locator('#confirm-ok').click();
    await expect.poll(() => page.locator('#toast').textContent()).toContain(`quiesce of ${vm}`);
    await expect
      .poll(() => page.locator(`#vms tr[data-vm="${vm}"]`).textContent(), { timeout: 15_000 })
      .toContain('quiesced');
    await expect.poll(() => page.locator('#tasks').textContent(), { timeout: 10_000 }).toContain('done');
    await shot('panel-web-quiesced');
    await page.goto(`${base}/tasks`);
    expect(await page.locator('#tasks tbody tr').first().textContent()).toContain('quiesce');
    await shot('panel-tasks');
    // Pause from the panel: the preset page and the list say so.
    await page.goto(`${base}/presets/svc-01`);
    await page.locator('.actions button', { hasText: 'Pause' }).click();
    await page.locator('#confirm-ok').click();
    await expect.poll(() => page.locator('.phase.big').textContent(), { timeout: 10_000 }).toBe('paused');
    await page.goto(`${base}/`);
    expect(await page.locator('#presets tr[data-name="svc-01"] .phase').textContent()).toBe('paused');
    await shot('panel-presets-paused');
  });
});
