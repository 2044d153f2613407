// OpenStack benchmark (issue 4), against the lab (../shared/openstack-lab/up.sh first):
// 1. time from an empty project to 10 ACTIVE servers of one preset, with the daemon driving manage cycles,
//    against the same 10 servers created in parallel by plain curl calls in the same run (alternating);
// 2. API requests per steady cycle for 20 presets in one project.
// `npm run bench:openstack [-- --runs=3 --count=10 --presets=20]`. Results also go to bench/results/.
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { promisify } from 'node:util';
import { Daemon } from '../dist/daemon/daemon.js';
import { resolveCredentials } from '../dist/drivers/iaas/openstack/credentials.js';
import { openStackClouds } from '../dist/drivers/iaas/openstack/driver.js';
import { OpenStackCloud } from '../dist/drivers/iaas/openstack/openstack-cloud.js';
import { openStackOptionsSchema } from '../dist/drivers/iaas/openstack/options.js';
import { systemClock } from '../dist/util/clock.js';

const run = promisify(execFile);
const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const RUNS = Number(args.runs ?? 3);
const COUNT = Number(args.count ?? 10);
const PRESETS = Number(args.presets ?? 20);
const POLL_MS = 250;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const labDir = process.env.OPENSTACK_LAB_DIR ?? '/tmp/openstack-lab';
const env = Object.fromEntries(
  readFileSync(join(labDir, 'demo.env'), 'utf8')
    .split('\n')
    .map((l) => /^([A-Z_0-9]+)=(.*)$/.exec(l.trim()))
    .filter(Boolean)
    .map((m) => [m[1], m[2].replace(/^"(.*)"$/, '$1')]),
);
const IMAGE = env.OS_LAB_IMAGE;
const NETWORK = env.OS_LAB_NETWORK;
const options = openStackOptionsSchema.parse({});
const observer = new OpenStackCloud(
  resolveCredentials(options, { env, resolvePath: (p) => p, readFile: () => undefined }),
  options,
  systemClock,
);

async function emptyProject() {
  for (;;) {
    const servers = await observer.servers({});
    if (servers.length === 0) return;
    await Promise.all(servers.map((s) => observer.terminate(s.id)));
    await sleep(500);
  }
}
const activeCount = async (prefix) =>
  (await observer.servers({ name: `^${prefix}` })).filter((s) => s.status === 'ACTIVE').length;

// ----- vmshepherd ---------------------------------------------------------------------------------------

const iaas = `{driver: OpenStackDriver, auth_url: '${env.OS_AUTH_URL}', username: ${env.OS_USERNAME}, password: ${env.OS_PASSWORD}, project_name: ${env.OS_PROJECT_NAME}, user_domain_name: ${env.OS_USER_DOMAIN_NAME}, project_domain_name: ${env.OS_PROJECT_DOMAIN_NAME}, region_name: ${env.OS_REGION_NAME}}`;
const preset = (name, count) =>
  `name: ${name}\ncount: ${count}\nimage: ${IMAGE}\nflavor: m1.tiny\nmanage_interval: 0\nnetwork: {subnet: [${NETWORK}]}\n`;

async function daemonWith(presets) {
  const dir = mkdtempSync(join(tmpdir(), 'vmshepherd-osbench-'));
  mkdirSync(join(dir, 'presets'));
  writeFileSync(
    join(dir, 'settings.yaml'),
    `log_level: warn\nruntime: {driver: InMemoryDriver}\npresets: {driver: DirectoryDriver, path: presets}\nmanage: {refresh_interval: 600}\ndefaults:\n  iaas: ${iaas}\n`,
  );
  for (const [name, text] of Object.entries(presets))
    writeFileSync(join(dir, 'presets', `${name}.conf`), text);
  const sink = new Writable({ write: (_c, _e, done) => done() });
  const daemon = await Daemon.create({
    configFile: join(dir, 'settings.yaml'),
    logDestination: sink,
    pretty: false,
  });
  return { daemon, dir };
}

async function vmshepherdRun(i) {
  const name = `bench-vms${i}`;
  const { daemon, dir } = await daemonWith({ [name]: preset(name, COUNT) });
  await daemon.refreshPresets();
  const t0 = performance.now();
  let cycles = 0;
  while ((await activeCount(name)) < COUNT) {
    await daemon.runCycle();
    cycles++;
    await sleep(POLL_MS);
  }
  const s = (performance.now() - t0) / 1000;
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
  await emptyProject();
  return { s, cycles };
}

// ----- plain curl ---------------------------------------------------------------------------------------

async function curl(argv) {
  const { stdout } = await run('curl', ['-sS', '--fail-with-body', ...argv], { maxBuffer: 64 << 20 });
  return stdout;
}

async function curlRun(i) {
  const prefix = `bench-curl${i}-`;
  const t0 = performance.now();
  const auth = {
    auth: {
      identity: {
        methods: ['password'],
        password: {
          user: {
            name: env.OS_USERNAME,
            domain: { name: env.OS_USER_DOMAIN_NAME },
            password: env.OS_PASSWORD,
          },
        },
      },
      scope: { project: { name: env.OS_PROJECT_NAME, domain: { name: env.OS_PROJECT_DOMAIN_NAME } } },
    },
  };
  const out = await curl([
    '-i',
    '-H',
    'content-type: application/json',
    '-d',
    JSON.stringify(auth),
    `${env.OS_AUTH_URL}/auth/tokens`,
  ]);
  const token = /x-subject-token:\s*(\S+)/i.exec(out)[1];
  const body = JSON.parse(out.slice(out.indexOf('\r\n\r\n') + 4));
  const nova = body.token.catalog
    .find((e) => e.type === 'compute')
    .endpoints.find((e) => e.interface === 'public').url;
  const image = await observer.imageId(IMAGE);
  const flavor = await observer.flavorId('m1.tiny');
  const net = (await observer.networkRefs([NETWORK]))[0].uuid;
  const h = ['-H', `x-auth-token: ${token}`, '-H', 'content-type: application/json'];
  await Promise.all(
    Array.from({ length: COUNT }, (_, k) =>
      curl([
        ...h,
        '-d',
        JSON.stringify({
          server: { name: `${prefix}${k}`, imageRef: image, flavorRef: flavor, networks: [{ uuid: net }] },
        }),
        `${nova}/servers`,
      ]),
    ),
  );
  for (;;) {
    const list = JSON.parse(await curl([...h, `${nova}/servers/detail?name=^${prefix}`]));
    if (list.servers.filter((s) => s.status === 'ACTIVE').length >= COUNT) break;
    await sleep(POLL_MS);
  }
  const s = (performance.now() - t0) / 1000;
  await emptyProject();
  return { s };
}

// ----- steady cycles of many presets --------------------------------------------------------------------

const requests = () => {
  let n = 0;
  for (const c of openStackClouds()) for (const v of c.http.counts.values()) n += v;
  return n;
};

async function steady() {
  const presets = {};
  for (let i = 0; i < PRESETS; i++) presets[`bench-p${i}`] = preset(`bench-p${i}`, 1);
  const { daemon, dir } = await daemonWith(presets);
  await daemon.refreshPresets();
  for (;;) {
    await daemon.runCycle();
    const servers = await observer.servers({ name: '^bench-p' });
    if (servers.filter((s) => s.status === 'ACTIVE').length === PRESETS) break;
    await sleep(POLL_MS);
  }
  await daemon.runCycle(); // settle: post-create bookkeeping
  const perCycle = [];
  for (let i = 0; i < 5; i++) {
    // As the daemon's worker_interval does: a cycle trusts the shared listing only when it started more
    // than a second after a preset's last save (observe.ts), so back-to-back cycles would list per preset.
    await sleep(2000);
    const before = requests();
    await daemon.runCycle();
    perCycle.push(requests() - before);
  }
  await daemon.stop();
  rmSync(dir, { recursive: true, force: true });
  await emptyProject();
  return perCycle;
}

await emptyProject();
const ours = [];
const theirs = [];
for (let i = 0; i < RUNS; i++) {
  theirs.push(await curlRun(i));
  ours.push(await vmshepherdRun(i));
  console.error(
    `run ${i + 1}: curl ${theirs.at(-1).s.toFixed(1)} s, vmshepherd ${ours.at(-1).s.toFixed(1)} s`,
  );
}
const perCycle = await steady();
await observer.close();

const m = { ours: median(ours.map((r) => r.s)), theirs: median(theirs.map((r) => r.s)) };
const result = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}, Node ${process.version}`,
  count: COUNT,
  runs: RUNS,
  vmshepherd_s: ours.map((r) => r.s),
  vmshepherd_cycles: ours.map((r) => r.cycles),
  curl_s: theirs.map((r) => r.s),
  ratio: m.ours / m.theirs,
  presets: PRESETS,
  requests_per_steady_cycle: perCycle,
};
mkdirSync('bench/results', { recursive: true });
writeFileSync(
  `bench/results/openstack-${result.date.slice(0, 10)}.json`,
  `${JSON.stringify(result, null, 2)}\n`,
);
console.log(`| | vmshepherd | plain curl | ratio | target |
| --- | --- | --- | --- | --- |
| empty project → ${COUNT} ACTIVE, median of ${RUNS} | ${m.ours.toFixed(1)} s (${ours.map((r) => r.s.toFixed(1)).join(', ')}) | ${m.theirs.toFixed(1)} s (${theirs.map((r) => r.s.toFixed(1)).join(', ')}) | ${result.ratio.toFixed(2)} | ≤ 1.2 |
| API requests per steady cycle, ${PRESETS} presets | ${median(perCycle)} (${perCycle.join(', ')}) | | | ≤ 3 |

${result.machine}, ${result.date}`);
