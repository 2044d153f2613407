import type { Vm } from '../../src/drivers/types.js';
import type { HealthPolicy, Preset } from '../../src/presets/preset.js';
import { declaredSpec, specPartsOf } from '../../src/presets/spec-parts.js';
import type { VmHealth } from '../../src/reconcile/state.js';

export const T0 = Date.parse('2026-11-21T12:00:00Z');

export function preset(overrides: Partial<Preset> = {}, policy: Partial<HealthPolicy> = {}): Preset {
  const p: Omit<Preset, 'specParts'> = {
    name: 'web',
    source: { id: 'web.conf', file: 'web.conf', revision: 'r1' },
    count: 3,
    network: { securityGroups: [], subnets: [] },
    metaTags: {},
    metaTagText: {},
    panelLinks: {},
    manageIntervalMs: 0,
    leaseTtlMs: 120_000,
    unmanaged: false,
    iaas: {
      driver: 'DummyIaasDriver',
      options: {},
      limits: { maxConcurrentCalls: 32, callsPerSecond: 0 },
      shutdownGraceMs: 900_000,
    },
    healthcheck: {
      driver: 'DummyHealthcheck',
      options: {},
      policy: {
        unhealthyThreshold: 5,
        failedDelay: 0,
        startupGrace: 0,
        maxUnhealthy: '40%',
        timeoutMs: 10_000,
        ...policy,
        remedies: policy.remedies ?? ['replace'],
      },
    },
    scaleInOrder: 'unhealthy_newest',
    bootTimeoutMs: 900_000,
    createConcurrency: 10,
    update: { strategy: 'replace', maxSurge: 1, maxUnavailable: 0, minReadyMs: 0 },
    createBackoff: { initialMs: 10_000, maxMs: 600_000, quotaWindowMs: 300_000 },
    scrubGraceMs: 3_600_000,
    adoptByName: true,
    specHash: 'spec1',
    extra: {},
    ...overrides,
    flavors: overrides.flavors ?? (overrides.flavor ? [overrides.flavor] : []),
    zones:
      overrides.zones ?? (overrides.network?.availabilityZone ? [overrides.network.availabilityZone] : []),
  };
  return { ...p, specParts: overrides.specParts ?? specPartsOf(declaredSpec(p)) };
}

let serial = 0;
export function vm(overrides: Partial<Vm> & { ageSeconds?: number } = {}): Vm {
  const { ageSeconds = 3600, ...rest } = overrides;
  serial += 1;
  return {
    id: `vm-${serial}`,
    name: `web-${serial}`,
    state: 'running',
    ips: [`10.0.0.${serial}`],
    createdAt: new Date(T0 - ageSeconds * 1000).toISOString(),
    metadata: {},
    ...rest,
  };
}

export function failing(failures: number, sinceSecondsAgo: number): VmHealth {
  return {
    failures,
    failingSince: failures > 0 ? T0 - sinceSecondsAgo * 1000 : null,
    verdict: failures > 0 ? 'unhealthy' : 'healthy',
    reason: 'test',
    history: '',
  };
}
