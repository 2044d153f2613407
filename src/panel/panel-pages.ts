import type { Task } from '../daemon/tasks.js';
import type { EventView, PresetDetail, PresetSummary, VmView } from '../http/views.js';
import { VERB_NAMES } from '../reconcile/verbs.js';
import { type Html, html, shortDuration } from './html.js';

/** What a page may offer: actions need an operate token; `why` explains a disabled button. */
export interface PanelAccess {
  who: string;
  canOperate: boolean;
  why: string;
  /** Tokens are configured: the page offers a sign-in / sign-out link. */
  tokens: boolean;
}

export interface PageFrame {
  title: string;
  instance: string;
  access: PanelAccess;
  /** What the live stream re-renders (the path of the page). */
  live: string;
  nav: 'presets' | 'tasks' | 'preset';
}

export function page(frame: PageFrame, body: Html): Html {
  const a = frame.access;
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${frame.title} · vmshepherd</title><link rel="stylesheet" href="/panel/app.css"><script src="/panel/app.js" defer></script></head>
<body data-live="${frame.live}">
<header class="top"><a class="brand" href="/">vmshepherd</a>
<nav><a href="/" class="${frame.nav === 'presets' ? 'on' : ''}">Presets</a><a href="/tasks" class="${frame.nav === 'tasks' ? 'on' : ''}">Tasks</a><a href="/api/v1/openapi.json">API</a><a href="/metrics">Metrics</a></nav>
<span class="grow"></span><span class="live" id="live-state" title="live updates">● live</span>
<span class="who" title="${a.why}">${a.who}${a.canOperate ? ' · operate' : ' · read-only'}</span>
${a.tokens ? html`<a class="signin" href="/login">${a.who === 'anonymous' ? 'sign in' : 'change token'}</a>` : ''}
<span class="inst">instance ${frame.instance}</span></header>
<main id="live">${body}</main>
<dialog id="confirm"><form method="dialog"><p id="confirm-text"></p><menu><button value="cancel" class="btn">Cancel</button><button value="ok" class="btn danger" id="confirm-ok">Confirm</button></menu></form></dialog>
<div id="toast" role="status" aria-live="polite"></div>
</body></html>`;
}

/** Rows the preset list shows at most (presets needing attention first). */
export const PANEL_ROWS = 250;

const PHASE_ORDER = ['failing', 'degraded', 'paused', 'converging', 'new', 'unmanaged', 'converged'];

/** Presets that need attention first, then by name. */
const bySeverity = (a: PresetSummary, b: PresetSummary) =>
  PHASE_ORDER.indexOf(a.phase) - PHASE_ORDER.indexOf(b.phase) || a.name.localeCompare(b.name);

export function presetsBody(presets: readonly PresetSummary[], q: string, now: number): Html {
  const byPhase = new Map<string, number>();
  for (const p of presets) byPhase.set(p.phase, (byPhase.get(p.phase) ?? 0) + 1);
  const vms = presets.reduce((n, p) => n + Object.values(p.counts).reduce((a, b) => a + b, 0), 0);
  const desired = presets.reduce((n, p) => n + p.count, 0);
  const running = presets.reduce((n, p) => n + (p.counts.running ?? 0), 0);
  // Presets that need attention come first; past a few hundred rows a page stops being read (and costs
  // every live update), so the rest is counted, and the filter (server-side too) finds any of them.
  const sorted = [...presets].sort(bySeverity);
  const shown = sorted.slice(0, PANEL_ROWS);
  const hidden = sorted.length - shown.length;
  const rest = new Map<string, number>();
  for (const p of sorted.slice(PANEL_ROWS)) rest.set(p.phase, (rest.get(p.phase) ?? 0) + 1);
  const hiddenPhases = [...rest].map(([ph, n]) => `${n} ${ph}`).join(', ');
  return html`<section class="bar">
<form class="search" action="/" method="get"><input type="search" name="q" id="q" value="${q}" placeholder="filter presets…" autocomplete="off" aria-label="filter presets"></form>
<div class="chips">${PHASE_ORDER.filter((ph) => byPhase.has(ph)).map(
    (ph) => html`<span class="chip ph-${ph}">${ph} <b>${byPhase.get(ph)}</b></span>`,
  )}</div>
<span class="grow"></span><span class="totals"><b>${presets.length}</b> presets · <b>${running}</b>/${desired} VMs running · ${vms} seen</span></section>
<table class="grid presets" id="presets"><thead><tr><th>status</th><th>preset</th><th class="n">run/want</th><th class="n">pend</th><th class="n">unhl</th><th>VMs by state</th><th>code</th><th>message</th><th class="n">managed</th><th class="n">next</th></tr></thead>
<tbody>${shown.map((p) => presetRow(p, now))}</tbody></table>
${presets.length === 0 ? html`<p class="empty">No preset matches.</p>` : ''}
${hidden > 0 ? html`<p class="more" id="more">${hidden} more presets (${hiddenPhases}) not listed: type in the filter to find one.</p>` : ''}`;
}

/**
 * One row of the list: 250 of them per page, so no per-cell classes (the stylesheet styles the columns
 * of `.presets` by position) and no white space between cells; a class only where a cell stands out.
 */
function presetRow(p: PresetSummary, now: number): Html {
  const running = p.counts.running ?? 0;
  const active = running + (p.counts.quiesced ?? 0);
  const states = Object.entries(p.counts).sort(([a], [b]) => a.localeCompare(b));
  const next = p.nextManageAt ? Date.parse(p.nextManageAt) : now;
  return html`<tr data-name="${p.name}" class="row-${p.phase}"><td><span class="phase ph-${p.phase}">${p.phase}</span>${p.guard ? html` <span class="tag warn" title="mass-deletion guard active">guard</span>` : ''}</td><td><a href="/presets/${encodeURIComponent(p.name)}">${p.name}</a></td>${active < p.count ? html`<td class="short">` : html`<td>`}${running}/${p.count}</td><td>${p.counts.pending ?? ''}</td>${p.unhealthy > 0 ? html`<td class="bad">${p.unhealthy}</td>` : html`<td></td>`}<td>${states.map(([s, n]) => html`<span class="st st-${s}">${s} ${n}</span>`)}</td><td>${p.code ?? ''}</td><td title="${p.message}">${p.message}</td><td title="${p.lastManagedAt ?? 'never'}${p.lastManagedBy ? ` by ${p.lastManagedBy}` : ''}">${p.lastManagedAt ? `${shortDuration(now - Date.parse(p.lastManagedAt))} ago` : '–'}</td><td>${p.paused ? 'paused' : next > now ? `in ${shortDuration(next - now)}` : 'due'}</td></tr>
`;
}

function actionButton(
  access: PanelAccess,
  label: string,
  method: string,
  url: string,
  confirm: string,
  cls = '',
): Html {
  if (!access.canOperate)
    return html`<button class="btn ${cls}" disabled title="${access.why}">${label}</button>`;
  return html`<button class="btn ${cls}" data-method="${method}" data-url="${url}" data-confirm="${confirm}">${label}</button>`;
}

export function presetBody(
  d: PresetDetail,
  vms: readonly VmView[],
  events: readonly EventView[],
  tasks: readonly Task[],
  access: PanelAccess,
  now: number,
): Html {
  const base = `/api/v1/presets/${encodeURIComponent(d.name)}`;
  const s = d.spec;
  const running = d.counts.running ?? 0;
  const quiesced = d.counts.quiesced ?? 0;
  const active = running + quiesced;
  return html`<section class="head">
<div class="title"><a href="/" class="back">presets /</a> <h1>${d.name}</h1><span class="phase big ph-${d.phase}">${d.phase}</span>${d.code ? html`<span class="code">${d.code}</span>` : ''}
<span class="count ${active < d.count ? 'short' : ''}" title="running (quiesced VMs count too)"><b>${running}</b>/${d.count} running${quiesced ? ` + ${quiesced} quiesced` : ''}${d.counts.quarantined ? ` · ${d.counts.quarantined} quarantined` : ''}</span>
<span class="grow"></span><span class="actions">
${actionButton(access, 'Manage now', 'POST', `${base}/manage`, `Manage preset ${d.name} now?`)}
${
  d.paused
    ? actionButton(
        access,
        'Resume',
        'POST',
        `${base}/resume`,
        `Resume preset ${d.name}? The loop will act on it again.`,
      )
    : actionButton(
        access,
        'Pause',
        'POST',
        `${base}/pause`,
        `Pause preset ${d.name}? The loop will observe it but take no action (on every instance).`,
        'warn',
      )
}</span></div>
<p class="msg">${d.message}</p>
<dl class="kv"><dt>image</dt><dd>${s.image ?? '–'}</dd><dt>flavor</dt><dd>${s.flavor ?? '–'}</dd><dt>key</dt><dd>${s.keyName ?? '–'}</dd>
<dt>network</dt><dd>${[s.network.availabilityZone, ...s.network.securityGroups.map((g) => `sg:${g}`), ...s.network.subnets.map((n) => `net:${n}`)].filter(Boolean).join(' ') || '–'}</dd>
<dt>drivers</dt><dd>${s.iaasDriver}${s.healthcheckDriver ? ` · ${s.healthcheckDriver}` : ''}</dd>
<dt>update</dt><dd>${s.update.strategy}, surge ${s.update.maxSurge}</dd>
${d.budget ? html`<dt>budget</dt><dd id="budget">${d.budget.line}${d.budget.waiting.map((w) => html`<br><span class="dim">${w.verb} ${w.vm} by ${w.by}: ${w.reason}</span>`)}</dd>` : ''}
<dt>spec</dt><dd class="mono">${s.specHash}</dd><dt>revision</dt><dd class="mono" title="${s.file}">${d.revision}</dd>
<dt>managed</dt><dd>${d.lastManagedAt ? `${shortDuration(now - Date.parse(d.lastManagedAt))} ago` : 'never'}${d.lastManagedBy ? ` by ${d.lastManagedBy}` : ''}, every ${s.manageInterval}s</dd>
<dt>tags</dt><dd>${Object.entries(s.metaTags).map(([k, v]) => html`<span class="tag">${k}=${v}</span> `)}${Object.keys(s.metaTags).length === 0 ? '–' : ''}</dd></dl>
<ul class="conds">${d.conditions.map((c) => html`<li class="${c.status ? (c.type === 'Converged' ? 'ok' : 'on') : 'off'}" title="${c.message}"><b>${c.status ? '●' : '○'} ${c.type}</b>${c.code ? html` <span class="code">${c.code}</span>` : ''}${c.status && c.type !== 'Converged' ? html` <span class="dim">${c.message}</span>` : ''}</li>`)}</ul>
</section>
<h2>VMs <span class="dim">${vms.length}</span></h2>
<div class="wrap"><table class="grid vms" id="vms"><thead><tr><th>VM</th><th>state</th><th>IP</th><th class="n">age</th><th>health (old → new)</th><th class="n">fails</th><th>reason</th><th>spec</th><th>links</th><th>actions</th></tr></thead>
<tbody>${vms.map((v) => vmRow(d, v, access))}</tbody></table></div>
${vms.length === 0 ? html`<p class="empty">No VM yet.</p>` : ''}
<div class="cols2">
<section><h2>Events <span class="dim">newest first</span></h2>
<table class="grid events" id="events"><thead><tr><th>at</th><th>event</th><th>VM</th><th>code</th><th>reason</th></tr></thead>
<tbody>${events.slice(0, 60).map((e) => html`<tr class="ev-${e.type}"><td class="n" title="${e.at}">${e.at.slice(11, 19)}</td><td><span class="ev">${e.type}</span></td><td class="mono">${e.vm ?? ''}</td><td class="code">${e.code ?? ''}</td><td class="msg" title="${e.reason}">${e.reason}</td></tr>`)}</tbody></table></section>
<section><h2>Tasks</h2>${tasksTable(tasks.slice(0, 20), false)}
${
  d.userdata !== undefined
    ? html`<details class="userdata"><summary>Rendered userdata</summary><pre>${d.userdata}</pre></details>`
    : html`<p class="dim">${access.canOperate ? 'No userdata.' : 'Rendered userdata: shown to operate tokens only.'}</p>`
}</section>
</div>`;
}

function vmRow(d: PresetDetail, v: VmView, access: PanelAccess): Html {
  const h = v.health;
  const vmUrl = `/api/v1/presets/${encodeURIComponent(d.name)}/vms/${encodeURIComponent(v.id)}`;
  const verbs = VERB_NAMES.filter((verb) => verbApplies(verb, v.lifecycle));
  return html`<tr data-vm="${v.id}" class="vm-${v.state}${h && h.failures > 0 ? ' failing' : ''}">
<td class="mono id" title="${v.id} (${v.name})">${v.id}</td>
<td><span class="st st-${v.state}">${v.state}</span>${v.lifecycle !== 'active' && v.lifecycle !== v.state ? html` <span class="tag">${v.lifecycle}</span>` : ''}${v.providerStatus ? html` <span class="dim">${v.providerStatus}</span>` : ''}</td>
<td class="mono">${v.ips.join(' ') || '–'}</td>
<td class="n">${shortDuration(v.ageSeconds * 1000)}</td>
<td class="hist">${h ? [...h.history].map((c) => html`<i class="h-${c === 'h' ? 'ok' : c === 'u' ? 'bad' : 'unk'}" title="${c === 'h' ? 'healthy' : c === 'u' ? 'unhealthy' : 'unknown'}"></i>`) : html`<span class="dim">–</span>`}</td>
<td class="n ${h && h.failures > 0 ? 'bad' : ''}">${h?.failures || ''}</td>
<td class="msg" title="${v.fault ?? h?.reason ?? ''}">${h?.code ? html`<span class="code">${h.code}</span> ` : ''}${v.fault ?? (h && h.verdict !== 'healthy' ? h.reason : '') ?? ''}</td>
<td class="mono ${v.outdated ? 'warn' : 'dim'}" title="${v.outdated ? 'built from an older spec' : 'current spec'}">${v.specHash ?? '–'}</td>
<td>${Object.entries(v.links).map(([label, url]) => html`<a href="${url}" rel="noopener noreferrer" target="_blank">${label}</a> `)}</td>
<td><div class="acts">${verbs.map((verb) => actionButton(access, verb, 'POST', `${vmUrl}/${verb}`, `${verb} VM ${v.id} of ${d.name}?`, 'sm'))}${actionButton(access, 'terminate', 'DELETE', vmUrl, `Terminate VM ${v.id} of ${d.name}? The loop will replace it.`, 'sm danger')}</div></td></tr>`;
}

/** Only the verbs legal from the VM's lifecycle are offered (the API refuses the others anyway). */
function verbApplies(verb: string, lifecycle: VmView['lifecycle']): boolean {
  if (lifecycle === 'scrubbing') return verb === 'restore';
  if (lifecycle === 'quarantined') return false; // kept for a look: terminate, or its ttl, ends it
  if (lifecycle === 'terminating' || lifecycle === 'terminating:wait') return false;
  if (lifecycle === 'quiesced') return verb === 'restart' || verb === 'scrub' || verb === 'update';
  return verb !== 'restore';
}

export function tasksTable(tasks: readonly Task[], withPreset: boolean): Html {
  if (tasks.length === 0) return html`<p class="empty">No task yet.</p>`;
  return html`<table class="grid tasks" id="tasks"><thead><tr><th>requested</th>${withPreset ? html`<th>preset</th>` : ''}<th>VM</th><th>verb</th><th>by</th><th>state</th><th>ran by</th><th>error</th></tr></thead>
<tbody>${tasks.map((t) => html`<tr class="task-${t.state}"><td class="n" title="${t.createdAt}">${t.createdAt.slice(11, 19)}</td>${withPreset ? html`<td><a href="/presets/${encodeURIComponent(t.preset)}">${t.preset}</a></td>` : ''}<td class="mono">${t.vm ?? ''}</td><td>${t.verb}</td><td>${t.by}</td><td><span class="ts ts-${t.state}">${t.state}</span></td><td title="${t.steps.map((s) => `${s.at} ${s.name} ${s.state} ${s.instance}`).join('\n')}">${t.executor ?? ''}${t.attempts > 1 ? ` (attempt ${t.attempts})` : ''}</td><td class="msg">${t.error ? html`<span class="code">${t.error.code}</span>${t.error.step ? ` at ${t.error.step}:` : ''} ${t.error.message}` : ''}</td></tr>`)}</tbody></table>`;
}

export function tasksBody(tasks: readonly Task[]): Html {
  return html`<h2>Tasks <span class="dim">verbs and operator actions asked through any instance, newest first</span></h2>${tasksTable(tasks, true)}`;
}

export function loginBody(message: string | undefined): Html {
  return html`<section class="login"><h1>Sign in</h1><p>Paste an API token from <code>http.tokens</code>. It is kept in an HttpOnly cookie for this browser session.</p>
${message ? html`<p class="error">${message}</p>` : ''}
<form method="post" action="/login"><input type="password" name="token" autocomplete="off" placeholder="token" aria-label="token" required> <button class="btn" type="submit">Sign in</button></form>
<form method="post" action="/logout"><button class="btn" type="submit">Sign out</button></form></section>`;
}

export function errorBody(code: string, message: string): Html {
  return html`<section class="login"><h1>Error</h1><p class="error"><span class="code">${code}</span> ${message}</p><p><a href="/">back to presets</a></p></section>`;
}
