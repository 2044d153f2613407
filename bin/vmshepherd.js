#!/usr/bin/env -S node --max-semi-space-size=8
// The flags above are DAEMON_NODE_FLAGS (src/cli/heap-flags.ts): V8 reads them only at start-up.
import { main } from '../dist/cli/main.js';

await main();
