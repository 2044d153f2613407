import { ShepherdError } from '../errors/shepherd-error.js';
import type { Caller } from '../http/auth.js';
import { eventsOf, presetDetailOf, presetSummaryOf, vmViewOf } from '../http/views.js';
import type { PanelContext, PanelView } from './panel-context.js';
import { type PageFrame, presetBody, presetsBody, tasksBody } from './panel-pages.js';

/** The page for a panel path, or null when there is none. */
export async function renderPanelPath(
  ctx: PanelContext,
  path: string,
  caller: Caller,
): Promise<PanelView | null> {
  const { daemon, reader } = ctx;
  const url = new URL(path, 'http://panel');
  const access = ctx.accessOf(caller);
  const now = Date.now();
  const frame = (title: string, nav: PageFrame['nav']): PageFrame => ({
    title,
    instance: daemon.instanceId,
    access,
    live: url.pathname + url.search,
    nav,
  });
  if (url.pathname === '/') {
    const q = url.searchParams.get('q') ?? '';
    const body = await reader.memo(`panel:presets:${q}`, async () => {
      const all = (await reader.all()).map(({ preset, state }) => presetSummaryOf(preset, state));
      const shown = q ? all.filter((p) => p.name.toLowerCase().includes(q.toLowerCase())) : all;
      return presetsBody(shown, q, now);
    });
    return { frame: frame('Presets', 'presets'), body };
  }
  if (url.pathname === '/tasks')
    return { frame: frame('Tasks', 'tasks'), body: tasksBody(await daemon.listTasks({ limit: 1000 })) };
  const m = /^\/presets\/([^/]+)$/.exec(url.pathname);
  if (m) {
    const name = decodeURIComponent(m[1] as string);
    const preset = daemon.preset(name);
    if (!preset) throw new ShepherdError('cli_preset_1001', name);
    // The body differs only by role (buttons, userdata): shared within a short window per role.
    const { body, secret } = await reader.memo(`panel:preset:${name}:${caller.role}`, async () => {
      const state = await reader.state(name);
      const detail = presetDetailOf(preset, state, access.canOperate);
      const vms = state.vms.map((vm) => vmViewOf(preset, state, vm, now));
      const events = eventsOf(name, state).reverse();
      return {
        body: presetBody(
          detail,
          vms,
          events,
          await daemon.listTasks({ preset: name, limit: 20 }),
          access,
          now,
        ),
        secret: detail.userdata !== undefined,
      };
    });
    return { frame: frame(name, 'preset'), body, secret };
  }
  return null;
}
