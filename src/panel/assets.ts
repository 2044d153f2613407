/** The panel's stylesheet: dense tables, a small type scale, status colours that read at a glance. */
export const PANEL_CSS = `
:root{--bg:#f6f7f9;--fg:#1b1f24;--dim:#6a737d;--line:#dde1e6;--card:#fff;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da;--pause:#6e40c9;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:13px/1.35 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;font-variant-numeric:tabular-nums}
a{color:var(--info);text-decoration:none}a:hover{text-decoration:underline}
.top{display:flex;align-items:center;gap:14px;padding:6px 14px;background:#1f2328;color:#e6edf3}
.top a{color:#e6edf3}.brand{font-weight:700;letter-spacing:.02em}
.top nav a{padding:3px 8px;border-radius:4px;color:#c9d1d9}.top nav a.on{background:#373e47;color:#fff}
.grow{flex:1}.inst,.who{color:#9da7b3;font-size:12px}.signin{font-size:12px}
.live{font-size:11px;color:#3fb950}.live.off{color:#f85149}
main{padding:10px 14px 30px}
.bar{display:flex;align-items:center;gap:10px;margin-bottom:8px;flex-wrap:wrap}
.search input{width:260px;padding:4px 8px;border:1px solid var(--line);border-radius:4px;font:inherit}
.chips{display:flex;gap:6px}.chip{padding:2px 8px;border-radius:10px;font-size:12px;border:1px solid currentColor}
.totals{color:var(--dim)}.totals b{color:var(--fg)}
table.grid{width:100%;border-collapse:collapse;background:var(--card);border:1px solid var(--line)}
.grid th{position:sticky;top:0;background:#eef1f4;text-align:left;font-weight:600;font-size:11px;text-transform:uppercase;letter-spacing:.03em;color:#57606a;padding:4px 6px;border-bottom:1px solid var(--line);white-space:nowrap}
.grid td{padding:3px 6px;border-bottom:1px solid #eef0f2;vertical-align:middle;white-space:nowrap}
.grid tbody tr:hover{background:#f3f8ff}
.n{text-align:right}.mono{font-family:var(--mono);font-size:12px}.dim{color:var(--dim)}
td.msg{white-space:nowrap;overflow:hidden;text-overflow:ellipsis;max-width:560px}
.grid td.n,.grid th.n{width:1%}
.presets td:nth-child(2) a{font-weight:600}.presets td:nth-child(7){font-family:var(--mono);font-size:11px;color:var(--bad)}
.presets td:nth-child(3),.presets td:nth-child(4),.presets td:nth-child(5),.presets td:nth-child(9),.presets td:nth-child(10){text-align:right;width:1%}
.presets td:nth-child(8){overflow:hidden;text-overflow:ellipsis;width:100%;max-width:0}
tr.failing{background:#fff5f5}tr.row-failing{background:#fff5f5}tr.row-degraded{background:#fffbeb}tr.row-paused{background:#f8f5ff}
td.name a{font-weight:600}
.short{color:var(--bad);font-weight:600}.bad{color:var(--bad);font-weight:600}.warn{color:var(--warn)}
.phase{display:inline-block;min-width:92px;padding:1px 6px;border-radius:3px;font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.03em;color:#fff;text-align:center}
.phase.big{font-size:12px;padding:2px 10px;margin:0 8px}
.ph-converged{background:var(--ok);color:#fff}.ph-converging{background:var(--info);color:#fff}.ph-degraded{background:#bf8700;color:#fff}
.ph-failing{background:var(--bad);color:#fff}.ph-paused{background:var(--pause);color:#fff}.ph-unmanaged,.ph-new{background:#8c959f;color:#fff}
.chip.ph-converged,.chip.ph-converging,.chip.ph-degraded,.chip.ph-failing,.chip.ph-paused,.chip.ph-unmanaged,.chip.ph-new{background:none}
.chip.ph-converged{color:var(--ok)}.chip.ph-converging{color:var(--info)}.chip.ph-degraded{color:var(--warn)}.chip.ph-failing{color:var(--bad)}.chip.ph-paused{color:var(--pause)}.chip.ph-new,.chip.ph-unmanaged{color:var(--dim)}
.st{display:inline-block;padding:0 5px;margin-right:3px;border-radius:3px;font-size:11px;background:#eaeef2;color:#424a53}
.st-running{background:#dafbe1;color:#116329}.st-pending,.st-creating{background:#ddf4ff;color:#0550ae}.st-unhealthy,.st-dead,.st-stuck{background:#ffebe9;color:#a40e26}
.st-expiring,.st-quiesced,.st-scrubbing,.st-quarantined{background:#fff8c5;color:#7d4e00}
.tag{display:inline-block;padding:0 5px;border-radius:3px;font-size:11px;background:#eaeef2}.tag.warn{background:#fff8c5;color:#7d4e00}
.code{font-family:var(--mono);font-size:11px;color:var(--bad)}
.hist i{display:inline-block;width:7px;height:12px;margin-right:1px;border-radius:1px;vertical-align:middle}
.h-ok{background:#2da44e}.h-bad{background:#cf222e}.h-unk{background:#afb8c1}
.head{background:var(--card);border:1px solid var(--line);padding:8px 12px;margin-bottom:6px}
.title{display:flex;align-items:center;gap:4px}.title h1{font-size:18px;margin:0}.back{color:var(--dim)}
.count{margin-left:14px;font-size:14px}.head .msg{margin:4px 0 6px;color:#424a53}
.actions{display:flex;gap:6px}
.btn{font:inherit;font-size:12px;padding:3px 10px;border:1px solid #d0d7de;border-radius:4px;background:#f6f8fa;color:var(--fg);cursor:pointer}
.btn:hover:not([disabled]){background:#eef1f4;border-color:#afb8c1}.btn[disabled]{opacity:.45;cursor:not-allowed}
.btn.sm{font-size:11px;padding:1px 6px}.btn.danger{color:var(--bad)}.btn.danger:hover:not([disabled]){background:var(--bad);color:#fff}.btn.warn{color:var(--warn)}
div.acts{display:flex;gap:3px}.wrap{overflow-x:auto}
td.id{max-width:240px;overflow:hidden;text-overflow:ellipsis}
.cols{display:grid;grid-template-columns:minmax(380px,1fr) minmax(300px,1fr);gap:10px;margin-bottom:6px}
.cols2{display:grid;grid-template-columns:3fr 2fr;gap:10px}
.kv{display:grid;grid-template-columns:repeat(5,auto minmax(0,1fr));gap:2px 8px;margin:0;padding:6px 0;border-top:1px solid #eef0f2}
.kv dt{color:var(--dim)}.kv dd{margin:0;overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.conds{list-style:none;margin:0;padding:4px 0 0;display:flex;gap:16px;flex-wrap:wrap;border-top:1px solid #eef0f2}
.conds li{padding:1px 0}.conds li.off{color:var(--dim)}.conds li.on b{color:var(--warn)}.conds li.ok b{color:var(--ok)}
h2{font-size:13px;margin:12px 0 4px;text-transform:uppercase;letter-spacing:.04em;color:#424a53}
.ev{font-family:var(--mono);font-size:11px}
.ev-terminated .ev,.ev-terminate_failed .ev,.ev-create_failed .ev,.ev-health_failing .ev,.ev-guard_on .ev,.ev-manage_failed .ev{color:var(--bad)}
.ev-created .ev,.ev-health_recovered .ev{color:var(--ok)}.ev-paused .ev,.ev-resumed .ev,.ev-verb .ev{color:var(--pause)}
.ts{font-size:11px;padding:0 5px;border-radius:3px}.ts-done{background:#dafbe1;color:#116329}.ts-failed{background:#ffebe9;color:#a40e26}.ts-running,.ts-queued{background:#ddf4ff;color:#0550ae}
.userdata pre{background:#1f2328;color:#e6edf3;padding:8px;overflow:auto;max-height:300px;font-size:12px}
.empty,.more{color:var(--dim);padding:8px}
dialog{border:1px solid var(--line);border-radius:6px;padding:14px 18px;min-width:360px;box-shadow:0 8px 24px rgba(0,0,0,.2)}
dialog p{margin:0 0 12px;font-size:14px}dialog menu{display:flex;justify-content:flex-end;gap:8px;margin:0;padding:0}
#toast{position:fixed;right:14px;bottom:14px;max-width:520px;padding:8px 12px;border-radius:4px;background:#1f2328;color:#fff;display:none}
#toast.show{display:block}#toast.err{background:var(--bad)}
.login{max-width:520px;background:var(--card);border:1px solid var(--line);padding:14px 18px}.login form{margin:8px 0}
.login input{padding:4px 8px;width:300px}.error{color:var(--bad)}
`;

/**
 * The panel's script: swaps the page body with what the live stream sends, filters the preset list as
 * one types, and runs actions after a confirmation dialog (with the header that lets the cookie act).
 */
export const PANEL_JS = `(() => {
  const live = document.getElementById('live');
  const state = document.getElementById('live-state');
  const filter = () => {
    const q = document.getElementById('q');
    if (!q) return;
    const v = q.value.trim().toLowerCase();
    for (const tr of document.querySelectorAll('#presets tbody tr'))
      tr.hidden = v !== '' && !tr.dataset.name.toLowerCase().includes(v);
  };
  const streamPath = () => location.pathname + location.search;
  let source;
  let refilter;
  const connect = () => {
    if (source) source.close();
    source = new EventSource('/panel/stream?path=' + encodeURIComponent(streamPath()));
    source.onopen = () => state.classList.remove('off');
    source.onerror = () => state.classList.add('off');
    // The server ended the stream (its token was removed or changed, or it reached its maximum life):
    // load the page again, which signs in again or shows what the token may see now.
    source.addEventListener('end', () => { source.close(); location.reload(); });
    source.onmessage = (m) => {
      const q = document.getElementById('q');
      const focused = q && document.activeElement === q;
      const value = q ? q.value : '';
      const caret = q ? q.selectionStart : 0;
      live.innerHTML = m.data;
      const q2 = document.getElementById('q');
      if (q2) {
        q2.value = value;
        if (focused) { q2.focus(); q2.setSelectionRange(caret, caret); }
      }
      filter();
    };
  };
  connect();
  document.addEventListener('input', (e) => {
    if (e.target.id !== 'q') return;
    filter();
    const u = new URL(location.href);
    if (e.target.value) u.searchParams.set('q', e.target.value); else u.searchParams.delete('q');
    history.replaceState(null, '', u);
    // The list is capped server-side: ask the stream for the filtered list too.
    clearTimeout(refilter);
    refilter = setTimeout(connect, 250);
  });
  document.addEventListener('submit', (e) => { if (e.target.classList.contains('search')) e.preventDefault(); });
  const toast = (text, err) => {
    const t = document.getElementById('toast');
    t.textContent = text;
    t.className = 'show' + (err ? ' err' : '');
    clearTimeout(t.timer);
    t.timer = setTimeout(() => { t.className = ''; }, 6000);
  };
  const dialog = document.getElementById('confirm');
  let pending;
  document.addEventListener('click', (e) => {
    const b = e.target.closest('button[data-url]');
    if (!b) return;
    pending = b;
    document.getElementById('confirm-text').textContent = b.dataset.confirm;
    dialog.showModal();
  });
  dialog.addEventListener('close', async () => {
    const b = pending;
    pending = undefined;
    if (!b || dialog.returnValue !== 'ok') return;
    try {
      const r = await fetch(b.dataset.url, { method: b.dataset.method, headers: { 'x-vmshepherd-panel': '1' }, credentials: 'same-origin' });
      const body = await r.json().catch(() => ({}));
      if (!r.ok) toast((body.error && (body.error.code + ': ' + body.error.message)) || ('HTTP ' + r.status), true);
      else toast(body.message || (body.verb ? body.verb + (body.vm ? ' of ' + body.vm : ' of ' + body.preset) + ': ' + body.state : 'done'));
    } catch (err) { toast(String(err), true); }
  });
  filter();
})();
`;
