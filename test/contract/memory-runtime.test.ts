import { InMemoryRuntime } from '../../src/drivers/runtime/memory.js';
import { runtimeContract } from '../../src/testing/runtime-contract.js';
import { systemClock } from '../../src/util/clock.js';

runtimeContract(
  'InMemoryDriver',
  async () => {
    const backend = new InMemoryRuntime(systemClock);
    return { a: backend.as('a'), b: backend.as('b') };
  },
  { ttlMs: 400 },
);
