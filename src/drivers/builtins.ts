import { dummyHealthcheck } from './healthcheck/dummy.js';
import { httpHealthcheck } from './healthcheck/http.js';
import { tcpHealthcheck } from './healthcheck/tcp.js';
import { dummyIaasDriver } from './iaas/dummy/driver.js';
import { openStackDriver } from './iaas/openstack/driver.js';
import { directoryDriver } from './presets/directory.js';
import { gitRepoDriver } from './presets/git-repo/driver.js';
import { inMemoryDriver } from './runtime/memory.js';
import { postgresDriver } from './runtime/postgres/driver.js';
import { zookeeperDriver } from './runtime/zookeeper/driver.js';
import type { DriverDefinition } from './types.js';

/**
 * Drivers that ship with vmshepherd, registered statically (plugins are found by the registry). Their
 * definitions (name, options) load with the daemon; each implementation that brings a client library
 * (pg, node-zookeeper-client, simple-git, undici for OpenStack, HTTP checks and a remote simulator) is
 * imported by `create`, when a config uses it, so a daemon does not hold the libraries it does not use
 * (docs/performance.md).
 */
export const BUILTIN_DRIVERS: readonly DriverDefinition[] = [
  dummyIaasDriver,
  openStackDriver,
  directoryDriver,
  gitRepoDriver,
  inMemoryDriver,
  postgresDriver,
  zookeeperDriver,
  dummyHealthcheck,
  httpHealthcheck,
  tcpHealthcheck,
] as unknown as DriverDefinition[];
