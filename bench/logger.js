#!/usr/bin/env node
/**
 * The logger on the hot path: the time to write one JSON line of a child logger (a manage log line with a
 * nested object and no secret), best and median of 5 runs of 200,000 lines into a sink that only counts.
 *
 * Run: npm run build && node bench/logger.js
 */
import { Writable } from 'node:stream';
import { createLogger } from '../dist/observability/logger.js';

const N = 200_000;
const sink = new Writable({
  write(_chunk, _enc, done) {
    done();
  },
});
const log = createLogger({ level: 'info', instance: 'bench', pretty: false, destination: sink });
const child = log.child({ preset: 'web', component: 'manage' });
const run = () => {
  for (let i = 0; i < N; i++)
    child.info(
      { vm: `web-${i}`, state: 'running', took_ms: i % 100, outcome: { created: 1, deleted: 0, kept: 3 } },
      'vm kept',
    );
};
run();
const times = [];
for (let r = 0; r < 5; r++) {
  const t = process.hrtime.bigint();
  run();
  times.push(Number(process.hrtime.bigint() - t) / 1e6);
}
times.sort((a, b) => a - b);
const us = (ms) => ((ms * 1000) / N).toFixed(2);
console.log(`logger: ${us(times[0])} µs a line (best), ${us(times[2])} (median), ${N} lines × 5`);
