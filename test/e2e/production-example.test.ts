import { describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';

// docs/deploying.md tells operators to start from examples/production: it has to stay a valid configuration.
describe('the production example', () => {
  it('passes check --strict with the variables the systemd drop-in provides', async () => {
    const r = await runCli(['check', '--strict', '-c', 'examples/production/settings.yaml'], process.cwd(), {
      VMSHEPHERD_INSTANCE: 'host-a',
      CREDENTIALS_DIRECTORY: '/run/credentials/vmshepherd.service',
      VMSHEPHERD_ONCALL_TOKEN_SHA256: 'a'.repeat(64),
    });
    expect(r.stderr).toBe('');
    expect([r.code, r.stdout]).toEqual([0, '1 preset(s) valid: web\nconfiguration OK\n']);
  });
});
