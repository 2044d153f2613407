import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Daemon } from '../../src/daemon/daemon.js';
import { buildServer } from '../../src/http/server.js';
import { daemonIn } from './daemon.js';

export const READ_TOKEN = 'read-token-0123456789abcdef';
export const OPERATE_TOKEN = 'operate-token-0123456789abcdef';
/** Values that must never appear in any response or page. */
export const HC_SECRET = 'hc-header-secret-6c1f0e';
export const USERDATA_SECRET = 'userdata-secret-9a7b2d';

export const tokensBlock = (extra = '') => `
http:
  listen_port: 0
  tokens:
    - {name: reader, role: read, token: ${READ_TOKEN}}
    - {name: ops, role: operate, token: ${OPERATE_TOKEN}}
${extra}`;

export const settings = (http: string, iaas = 'DummyIaasDriver, latency: 0.001, boot_time: 0.05') => `
worker_interval: 0.2
${http}
runtime: {driver: InMemoryDriver}
presets: {driver: DirectoryDriver, path: presets}
defaults:
  iaas: {driver: ${iaas}}
  healthcheck: {driver: DummyHealthcheck}
`;

export const PRESETS: Record<string, string> = {
  'web.conf': `name: web
count: 3
image: img-1
manage_interval: 0
meta_tags: {team: storefront, tier: 2, public: yes}
panel_links: {status: "http://ip:8080/status"}
userdata: "#cloud-config\\npassword: ${USERDATA_SECRET}\\n"
`,
  'db.conf': 'name: db\ncount: 1\nimage: img-1\nmanage_interval: 0\n',
  'probe.conf': `name: probe
count: 0
image: img-1
healthcheck: {driver: HttpHealthcheck, port: 9, headers: {Authorization: "Bearer ${HC_SECRET}"}}
`,
};

export interface ApiFixture {
  daemon: Daemon;
  app: FastifyInstance;
  dir: string;
  close(): Promise<void>;
}

/** A daemon over its own directory (kept for the whole suite) and its HTTP server, not listening. */
export async function apiFixture(
  settingsText: string,
  presets: Record<string, string> = PRESETS,
): Promise<ApiFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-api-'));
  const files: Record<string, string> = { 'settings.yaml': settingsText };
  for (const [name, text] of Object.entries(presets)) files[`presets/${name}`] = text;
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  const { daemon } = await daemonIn(dir);
  const app = buildServer(daemon);
  await app.ready();
  return {
    daemon,
    app,
    dir,
    async close() {
      await app.close();
      await daemon.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export const bearer = (token: string | undefined) =>
  token === undefined ? {} : { authorization: `Bearer ${token}` };
