import { InMemoryRuntime } from '../../src/drivers/runtime/memory.js';
import type { RuntimeStore } from '../../src/drivers/types.js';
import { systemClock } from '../../src/util/clock.js';
import { runtimeContract } from './runtime-contract.js';

const as = (backend: InMemoryRuntime, owner: string): RuntimeStore => ({
  acquire: (k, ttl) => backend.acquire(k, ttl, owner),
  renew: (l, ttl) => backend.renew(l, ttl),
  release: (l) => backend.release(l),
  load: (p) => backend.load(p),
  save: (p, s, l) => backend.save(p, s, l),
});

runtimeContract(
  'InMemoryDriver',
  async () => {
    const backend = new InMemoryRuntime(systemClock);
    return { a: as(backend, 'a'), b: as(backend, 'b') };
  },
  { ttlMs: 400 },
);
