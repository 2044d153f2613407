#!/usr/bin/env -S MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 --single-threaded-gc
// The line above is daemonShebang() (src/cli/heap-flags.ts): V8 reads these flags only at start-up.
import { main } from '../dist/cli/main.js';

await main();
