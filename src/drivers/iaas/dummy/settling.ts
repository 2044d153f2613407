import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import type { CallOptions, IaasCapabilities, Vm, VmSpec } from '../../types.js';

/** The simulated cloud's own calls, in this process or over HTTP: each returns once the cloud took it. */
export interface SimulatorCalls {
  get(id: string, signal?: AbortSignal): Promise<Vm | null>;
  stop(id: string, signal?: AbortSignal): Promise<void>;
  start(id: string, signal?: AbortSignal): Promise<void>;
  reboot(id: string, signal?: AbortSignal): Promise<void>;
  rebuild(id: string, spec: VmSpec | undefined, signal?: AbortSignal): Promise<void>;
  resize(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void>;
  confirmResize(id: string, signal?: AbortSignal): Promise<void>;
  setSecurityGroups(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void>;
  setNetworks(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void>;
  setMetadata(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void>;
}

const POLL_MS = 200;
/** Longest a rebuild or resize may take before the driver gives up waiting (the default boot_timeout). */
const SETTLE_MS = 900_000;
const SETTLED = ['ACTIVE', 'SHUTOFF'];

/**
 * The driver's verbs over the simulator's calls, as a client of a real cloud does them: a rebuild or a
 * resize resolves only once the VM settled with the change (a resize confirmed, also one found waiting
 * for its confirmation), so the loop records a spec only when the cloud shows it.
 */
export function settlingVerbs(calls: SimulatorCalls, clock: Clock): IaasCapabilities {
  const settle = async (id: string, want: readonly string[], signal?: AbortSignal): Promise<Vm> => {
    const end = clock.now() + SETTLE_MS;
    for (;;) {
      const vm = await calls.get(id, signal);
      if (!vm) throw new ShepherdError('dummy_op_0001', id, { details: { vmId: id } });
      const status = vm.providerStatus ?? '';
      if (want.includes(status)) return vm;
      if (status === 'ERROR') throw new ShepherdError('dummy_op_2001', `${id}: ${vm.fault ?? 'ERROR'}`);
      if (clock.now() > end) throw new ShepherdError('dummy_op_2001', `${id}: still ${status}`);
      await clock.sleep(POLL_MS, signal);
    }
  };
  return {
    stop: (id, o?: CallOptions) => calls.stop(id, o?.signal),
    start: (id, o) => calls.start(id, o?.signal),
    reboot: (id, o) => calls.reboot(id, o?.signal),
    rebuild: async (id, spec, o) => {
      await calls.rebuild(id, spec, o?.signal);
      await settle(id, SETTLED, o?.signal);
    },
    resize: async (id, spec, o) => {
      const vm = await calls.get(id, o?.signal);
      if (!vm?.resizeUnconfirmed) {
        await calls.resize(id, spec, o?.signal);
        await settle(id, ['VERIFY_RESIZE'], o?.signal);
      }
      await calls.confirmResize(id, o?.signal);
      const after = await settle(id, SETTLED, o?.signal);
      if (spec.flavor && after.flavor !== spec.flavor)
        throw new ShepherdError('dummy_op_2001', `${id}: flavor ${after.flavor} after the resize`);
    },
    setSecurityGroups: (id, spec, o) => calls.setSecurityGroups(id, spec, o?.signal),
    setNetworks: (id, spec, o) => calls.setNetworks(id, spec, o?.signal),
    setMetadata: (id, spec, o) => calls.setMetadata(id, spec, o?.signal),
  };
}
