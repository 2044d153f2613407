// Waits until a running vmshepherd answers /readyz and has seen every preset converged at least once
// (the demo keeps replacing VMs that fail or turn sick, so "all at once" would be a race), within a
// deadline. Usage: node .ci/wait-converged.mjs BASE_URL [SECONDS]. Exits 0 when converged, 1 otherwise.
const [base, seconds = '90'] = process.argv.slice(2);
const deadline = Date.now() + Number(seconds) * 1000;
const seen = new Set();
let names = [];
let ready = false;
while (Date.now() < deadline) {
  try {
    if (!ready) {
      const r = await fetch(`${base}/readyz`);
      ready = r.ok;
      if (ready) console.log(`readyz: ${r.status} ${await r.text()}`);
    }
    if (ready) {
      const { items } = await (await fetch(`${base}/api/v1/presets`)).json();
      names = items.map((p) => p.name);
      for (const p of items) if (p.phase === 'converged') seen.add(p.name);
      if (names.length > 0 && names.every((n) => seen.has(n))) {
        console.log(`converged: ${names.join(', ')}`);
        process.exit(0);
      }
    }
  } catch {
    // Not listening yet.
  }
  await new Promise((r) => setTimeout(r, 500));
}
console.log(`not converged in ${seconds} s: ready=${ready}, converged ${[...seen].join(', ') || 'none'} of ${names.join(', ') || '?'}`);
process.exit(1);
