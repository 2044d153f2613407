import type { Logger } from 'pino';
import type { DriverContext } from '../drivers/types.js';
import type { Clock } from '../util/clock.js';
import { resolveConfigPath } from '../util/resolve-path.js';

export function driverContext(
  logger: Logger,
  clock: Clock,
  instanceId: string,
  baseDir: string,
  driver: string,
): DriverContext {
  return {
    logger: logger.child({ driver }),
    clock,
    instanceId,
    baseDir,
    resolvePath: (path) => resolveConfigPath(baseDir, path),
  };
}
