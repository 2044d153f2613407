import { describe, expect, it } from 'vitest';
import { handleRpc, originalVmMetadata, type RpcDeps } from '../../src/api/json-rpc.js';
import type { Vm } from '../../src/drivers/types.js';

const vm = (over: Partial<Vm> = {}): Vm => ({
  id: 'vm-1',
  name: 'web-1',
  state: 'running',
  ips: ['127.0.0.1'],
  createdAt: '2026-01-01T00:00:00.000Z',
  metadata: { vmshepherd_preset: 'web', team: 'storefront' },
  ...over,
});

describe('get_vm_metadata as the original built it', () => {
  it("is the VM's metadata plus the server's tags and iaas_shutdown", () => {
    expect(
      originalVmMetadata(
        vm({ tags: ['blue'], metadata: { team: 'storefront', iaas_timed_shutdown: '1800000000' } }),
      ),
    ).toEqual({
      team: 'storefront',
      iaas_timed_shutdown: '1800000000',
      tags: ['blue'],
      iaas_shutdown: 1800000000,
    });
  });

  it('gives tags [] when the server has none (never the preset meta_tags), and iaas_shutdown null when unset', () => {
    expect(originalVmMetadata(vm())).toEqual({
      vmshepherd_preset: 'web',
      team: 'storefront',
      tags: [],
      iaas_shutdown: null,
    });
  });

  it("gives iaas_shutdown null where the original's int() failed or its value was empty", () => {
    for (const value of ['', '1.5e9', 'soon'])
      expect(originalVmMetadata(vm({ metadata: { iaas_timed_shutdown: value } })).iaas_shutdown).toBeNull();
  });
});

describe('an unexpected failure of a call', () => {
  it("answers -32000 with the API's own catalogue code, api_request_1001", async () => {
    const daemon = {
      http: () => ({ openReads: true, tokens: [] }),
      presets: () => {
        throw new TypeError('presets is broken');
      },
    };
    const deps = { daemon, caller: { name: 'reader', role: 'read' } } as unknown as RpcDeps;
    expect(await handleRpc({ jsonrpc: '2.0', method: 'list_presets', id: 7 }, deps)).toEqual({
      jsonrpc: '2.0',
      error: {
        code: -32000,
        message:
          'An API or JSON-RPC request failed with an unexpected error: presets is broken [api_request_1001]',
        data: { code: 'api_request_1001' },
      },
      id: 7,
    });
  });
});
