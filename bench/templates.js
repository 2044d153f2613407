#!/usr/bin/env node
/**
 * Userdata templates: the time to render one preset's cloud-config template (loops, filters, tojson) with
 * the sandboxed Jinja engine, best and median of 5 runs of 1,000 presets.
 *
 * Run: npm run bench:templates
 */
import { renderJinja } from '../dist/presets/jinja/index.js';

const N = 1000;
const template = [
  '#cloud-config',
  'hostname: {{ name }}',
  'write_files:',
  '  - path: /etc/tags',
  '    content: |',
  '{% for key, value in meta_tags.items() %}      {{ key }}={{ value }}',
  '{% endfor %}packages:',
  "{% for p in packages|sort %}  - {{ p }}{{ '\\n' }}{% endfor %}",
  'runcmd:',
  "  - echo {{ name|upper|replace('-', '_') }}={{ count }} {{ meta_tags|tojson }}",
].join('\n');
const run = () => {
  for (let i = 0; i < N; i++)
    renderJinja(template, {
      name: `preset-${i}`,
      count: i % 7,
      meta_tags: { service: 'web', owner: `team-${i}`, env: 'prod' },
      packages: ['nginx', 'curl', 'jq', 'htop'],
    });
};
run();
const times = [];
for (let r = 0; r < 5; r++) {
  const t = process.hrtime.bigint();
  run();
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
console.log(
  `templates: ${N} presets in ${times[0].toFixed(1)} ms (best), ${times[2].toFixed(1)} ms (median)`,
);
