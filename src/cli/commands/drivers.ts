import { Daemon } from '../../daemon/daemon.js';
import { errorLine, type OutputFormat, print, printErr, printJson } from '../output.js';

/** `vmshepherd drivers`: every resolvable driver, its kind and where it comes from. */
export async function driversCommand(configFile: string | undefined, output: OutputFormat): Promise<number> {
  const registry = Daemon.registryFor({ configFile: configFile ?? 'vmshepherd.yaml' });
  const { drivers, broken } = await registry.list();
  const rows = drivers.map((d) => ({
    kind: d.definition.kind,
    name: d.definition.name,
    origin: d.origin,
    description: d.definition.description,
    ...(d.location ? { location: d.location } : {}),
  }));
  if (output === 'json') {
    printJson({
      drivers: rows,
      broken: broken.map((b) => ({ kind: b.kind, name: b.name, origin: b.origin, error: b.error.toJSON() })),
    });
  } else {
    const width = (key: 'kind' | 'name' | 'origin') =>
      Math.max(key.length, ...rows.map((r) => r[key].length));
    const [k, n, o] = [width('kind'), width('name'), width('origin')];
    print(`${'KIND'.padEnd(k)}  ${'NAME'.padEnd(n)}  ${'ORIGIN'.padEnd(o)}  DESCRIPTION`);
    for (const r of rows)
      print(`${r.kind.padEnd(k)}  ${r.name.padEnd(n)}  ${r.origin.padEnd(o)}  ${r.description}`);
    for (const b of broken) printErr(errorLine(b.error));
  }
  return broken.length === 0 ? 0 : 1;
}
