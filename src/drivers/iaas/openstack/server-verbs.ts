import { ShepherdError } from '../../../errors/shepherd-error.js';
import type { Clock } from '../../../util/clock.js';
import type { VmSpec } from '../../types.js';
import { isCode } from './http.js';
import { enc, type OpenStackApi } from './openstack-api.js';
import type { OpenStackOptions } from './options.js';
import type { Resolver } from './resolver.js';
import type { NovaServer } from './server-view.js';

/** Rebuild sends key_name (2.54) and user_data (2.57). */
const MV_REBUILD = '2.57';

/**
 * The verbs that change a server in place (stop, start, reboot, rebuild, resize, security groups,
 * metadata); each resolves once Nova shows it done.
 */
export class ServerVerbs {
  constructor(
    private readonly api: OpenStackApi,
    private readonly resolver: Resolver,
    private readonly o: OpenStackOptions,
    private readonly clock: Clock,
  ) {}

  /** A server action; a 409 because the server is already where the action leads counts as done. */
  async action(id: string, body: unknown, target: string | undefined, signal?: AbortSignal) {
    try {
      await this.api.send('compute', 'POST', `/servers/${enc(id)}/action`, { body, signal });
    } catch (err) {
      if (target && (isCode(err, 'openstack_compute_0003') || isCode(err, 'openstack_call_0002'))) {
        const s = await this.api.server(id, signal);
        if (s?.status === target) return;
      }
      throw err;
    }
  }

  /**
   * Re-images the server from the spec's image with its key pair and user data (2.57 applies both; null
   * removes them), then waits until Nova shows it settled on that image. Metadata is left as it is.
   */
  async rebuild(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    const s = await this.api.mustServer(id, signal);
    const current = typeof s.image === 'object' && s.image ? s.image.id : undefined;
    const imageRef = spec.image ? await this.resolver.imageId(spec.image, signal) : current;
    if (!imageRef)
      throw new ShepherdError('openstack_resolve_0001', `server ${id} has no image to rebuild from`);
    const rebuild = {
      imageRef,
      key_name: spec.keyName ?? null,
      user_data: spec.userdata ? Buffer.from(spec.userdata, 'utf8').toString('base64') : null,
    };
    await this.api.send('compute', 'POST', `/servers/${enc(id)}/action`, {
      body: { rebuild },
      microversion: MV_REBUILD,
      signal,
    });
    const after = await this.settled(id, 'openstack_update_2001', 'rebuild', signal);
    const image = typeof after.image === 'object' && after.image ? after.image.id : undefined;
    if (image !== imageRef)
      throw new ShepherdError('openstack_update_2001', `server ${id}: image ${image} after the rebuild`);
  }

  /**
   * Resizes to the spec's flavor, confirms, and waits until the server is settled on it. A server found
   * waiting for its confirmation (VERIFY_RESIZE: e.g. the daemon stopped in between) is only confirmed.
   */
  async resize(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    const s = await this.api.mustServer(id, signal);
    if (s.status !== 'VERIFY_RESIZE') {
      if (!spec.flavor) return;
      const flavorRef = await this.resolver.flavorId(spec.flavor, signal);
      if (this.onFlavor(s, flavorRef)) return;
      await this.api.send('compute', 'POST', `/servers/${enc(id)}/action`, {
        body: { resize: { flavorRef } },
        signal,
      });
      if (await this.awaitVerify(id, flavorRef, signal)) return;
    }
    await this.api.send('compute', 'POST', `/servers/${enc(id)}/action`, {
      body: { confirmResize: null },
      signal,
    });
    await this.settled(id, 'openstack_resize_2001', 'resize confirmation', signal);
  }

  private onFlavor(s: NovaServer, flavorRef: string): boolean {
    const name = this.resolver.flavorName(flavorRef);
    return s.flavor?.id === flavorRef || (name !== undefined && s.flavor?.original_name === name);
  }

  /**
   * Waits for VERIFY_RESIZE (false: confirm it). A server back to ACTIVE with no task and the old flavor
   * means Nova gave the resize up (e.g. no host can take the flavor); with the new flavor, the cloud
   * confirmed it itself (true: nothing to confirm).
   */
  private async awaitVerify(id: string, flavorRef: string, signal?: AbortSignal): Promise<boolean> {
    const end = this.clock.now() + this.o.resize_timeout * 1000;
    while (this.clock.now() < end) {
      const s = await this.api.mustServer(id, signal);
      if (s.status === 'VERIFY_RESIZE') return false;
      if (s.status === 'ERROR')
        throw new ShepherdError('openstack_boot_2001', `resize of ${id}: ${s.fault?.message ?? 'ERROR'}`);
      if ((s.status === 'ACTIVE' || s.status === 'SHUTOFF') && !s['OS-EXT-STS:task_state']) {
        if (this.onFlavor(s, flavorRef)) return true;
        throw new ShepherdError(
          'openstack_resize_2001',
          `server ${id}: Nova gave the resize up (see \`openstack server event list ${id}\`)`,
        );
      }
      await this.clock.sleep(1000, signal);
    }
    throw new ShepherdError('openstack_resize_2001', `server ${id}: no VERIFY_RESIZE in time`);
  }

  /** Waits until the server is ACTIVE or SHUTOFF with no task in progress (within `resize_timeout`). */
  private async settled(
    id: string,
    code: 'openstack_resize_2001' | 'openstack_update_2001',
    what: string,
    signal?: AbortSignal,
  ): Promise<NovaServer> {
    const end = this.clock.now() + this.o.resize_timeout * 1000;
    for (;;) {
      const s = await this.api.mustServer(id, signal);
      if ((s.status === 'ACTIVE' || s.status === 'SHUTOFF') && !s['OS-EXT-STS:task_state']) return s;
      if (s.status === 'ERROR')
        throw new ShepherdError('openstack_boot_2001', `${what} of ${id}: ${s.fault?.message ?? 'ERROR'}`);
      if (this.clock.now() >= end)
        throw new ShepherdError(code, `server ${id}: still ${s.status} after the ${what}`);
      await this.clock.sleep(1000, signal);
    }
  }

  /**
   * Adds and removes security groups (Nova's addSecurityGroup/removeSecurityGroup, applied to every port)
   * until the server has the spec's, then checks that Nova shows exactly those. No groups in the spec
   * means the project's `default`, as at creation.
   */
  async setSecurityGroups(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    const want = new Set(spec.network.securityGroups.length > 0 ? spec.network.securityGroups : ['default']);
    const groups = async () =>
      new Set((await this.api.mustServer(id, signal)).security_groups?.map((g) => g.name));
    const have = await groups();
    const action = (body: unknown) =>
      this.api.send('compute', 'POST', `/servers/${enc(id)}/action`, { body, signal });
    for (const name of want) if (!have.has(name)) await action({ addSecurityGroup: { name } });
    for (const name of have) if (!want.has(name)) await action({ removeSecurityGroup: { name } });
    const after = await groups();
    if (after.size !== want.size || [...want].some((g) => !after.has(g)))
      throw new ShepherdError(
        'openstack_update_2001',
        `server ${id}: security groups [${[...after].join(', ')}], asked [${[...want].join(', ')}]`,
      );
  }

  /** Merges the spec's metadata into the server's. */
  async setMetadata(id: string, spec: VmSpec, signal?: AbortSignal): Promise<void> {
    await this.api.send('compute', 'POST', `/servers/${enc(id)}/metadata`, {
      body: { metadata: spec.metadata },
      signal,
    });
  }
}
