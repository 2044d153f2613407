import { z } from 'zod';
import { durationSchema } from './duration.js';

/** `healthcheck.quarantine`: unhealthy VMs stopped and kept for a look instead of deleted (docs/quarantine.md). */
export const quarantineSchema = z
  .strictObject({
    keep: z
      .number()
      .int()
      .nonnegative()
      .describe(
        'most VMs of the preset kept in quarantine at once; the next unhealthy ones are replaced as usual',
      ),
    ttl: durationSchema
      .default('24h')
      .describe('how long a quarantined VM is kept before it is deleted: seconds, or "24h", "30m", "1h30m"'),
  })
  .describe(
    'instead of deleting an unhealthy VM that is replaced, stop it and keep it (not counted, its replacement created at once) until ttl',
  );
