/**
 * The import rules of docs/architecture.md, checked by `npm run lint:deps` (part of `npm test`). A rule
 * names the layer that must not import another; docs/architecture.md says why each holds.
 */
const below = (layers) => `^src/(${layers.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'A module circle means two modules are one: merge them or move the shared part down.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'leaves',
      comment: 'errors/ and util/ import nothing of vmshepherd but each other.',
      severity: 'error',
      from: { path: below(['errors', 'util']) },
      to: { path: '^src/(?!errors/|util/)' },
    },
    {
      name: 'observability-is-a-leaf',
      comment: 'Logs, metrics and traces take plain inputs; they know no daemon, reconcile or driver.',
      severity: 'error',
      from: { path: below(['observability']) },
      to: { path: below(['daemon', 'reconcile', 'api', 'panel', 'cli', 'presets', 'drivers', 'config']) },
    },
    {
      name: 'config-below-the-loop',
      comment: 'The settings and preset schemas know the driver contracts, never the loop or the faces.',
      severity: 'error',
      from: { path: below(['config']) },
      to: { path: below(['reconcile', 'daemon', 'api', 'panel', 'http', 'cli']) },
    },
    {
      name: 'drivers-below-config',
      comment: 'Drivers know the driver contract and their options, not the config or the loop above them.',
      severity: 'error',
      from: { path: below(['drivers']) },
      to: { path: `${below(['config', 'daemon', 'reconcile', 'api', 'panel', 'cli'])}|^src/presets/(?!preset\\.ts$)` },
    },
    {
      name: 'reconcile-knows-contracts-only',
      comment:
        'The loop talks to drivers through the contracts (drivers/types.ts and the files under drivers/types/ it re-exports); it imports nothing else of drivers/.',
      severity: 'error',
      from: { path: below(['reconcile']) },
      to: { path: `${below(['daemon', 'api', 'panel', 'cli'])}|^src/drivers/(?!types\\.ts$|types/)` },
    },
    {
      name: 'contracts-import-contracts',
      comment: 'The driver contracts know each other and the leaves, never a driver: the loop imports them.',
      severity: 'error',
      from: { path: '^src/drivers/types(\\.ts$|/)' },
      to: { path: '^src/(?!drivers/types(\\.ts$|/)|util/|observability/|errors/)' },
    },
    {
      name: 'daemon-below-its-faces',
      comment: 'The daemon wires and runs; the API, panel and CLI sit on it, never the reverse.',
      severity: 'error',
      from: { path: below(['daemon']) },
      to: { path: below(['api', 'panel', 'cli']) },
    },
    {
      name: 'faces-use-operations',
      comment: 'The API, the panel and the HTTP server ask the daemon through Operations, never its class.',
      severity: 'error',
      from: { path: below(['api', 'panel', 'http']) },
      to: { path: '^src/daemon/(?!operations\\.ts$|orphans\\.ts$|tasks\\.ts$)' },
    },
    {
      name: 'api-and-panel-apart',
      comment: 'The panel is mounted beside the API, not by it; what both need lives below them.',
      severity: 'error',
      from: { path: below(['api']) },
      to: { path: below(['panel']) },
    },
    {
      name: 'panel-apart-from-api',
      comment: 'The panel is mounted beside the API, not by it; what both need lives below them.',
      severity: 'error',
      from: { path: below(['panel']) },
      to: { path: below(['api']) },
    },
    {
      name: 'one-composition-root',
      comment: 'Only http/server.ts mounts the API and the panel; neither reaches back into it.',
      severity: 'error',
      from: { path: below(['api', 'panel']) },
      to: { path: '^src/http/server\\.ts$' },
    },
    {
      name: 'decisions-do-no-io',
      comment: 'Pure decision modules of reconcile never import the modules that do I/O.',
      severity: 'error',
      from: {
        path: '^src/reconcile/(status|plan|classify|state|disruption-budget|verbs|due|zone-spread|spec|task-steps|capacity-skips|backoff)\\.ts$',
      },
      to: {
        path: '^src/reconcile/(apply|manage-preset|run-tasks|run-verb|observe|lease-keeper|scheduler|operator-actions)\\.ts$',
        dependencyTypesNot: ['type-only'],
      },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: 'node_modules' },
  },
};
