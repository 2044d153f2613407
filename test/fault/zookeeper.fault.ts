import { faultSuite } from './fault-fleet.js';
import { zookeeperStore } from './fault-stores.js';

// Every fault must end with each preset at its count, nothing above count + surge, no VM deleted that the
// change did not ask for, no action after a lease was lost, and no instance dead (fault-fleet.ts).
faultSuite('ZookeeperDriver', zookeeperStore);
