namespace Disagg.Toolstack.Http;

/// <summary>
/// The dashboard: one self-contained page (no script, style or font from anywhere else; the host may have no
/// network) that follows /events and draws each domain's CPU and memory as it changes, the services with
/// their restarts and last recovery time, the kernel message log, and the console of the guest picked.
/// Element ids and data-name attributes are what the browser test reads.
/// </summary>
internal static class DashboardPage
{
    public const string Html = """
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>disagg host</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1em 2em; color: #222; }
h1 { font-size: 1.3em; } h2 { font-size: 1.1em; margin-top: 1.5em; }
table { border-collapse: collapse; } td, th { padding: 2px 10px; text-align: left; border-bottom: 1px solid #ddd; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
canvas { border: 1px solid #ccc; vertical-align: middle; }
pre { background: #111; color: #ddd; padding: 8px; max-height: 20em; overflow: auto; white-space: pre-wrap; }
#status { color: #777; } .bad { color: #b00; }
</style>
</head>
<body>
<h1>disagg host <span id="status">connecting</span></h1>
<div id="host"></div>
<h2>Domains</h2>
<table id="domains"><thead><tr><th>id</th><th>name</th><th>state</th><th>vCPUs</th><th>CPU %</th><th>memory MiB</th><th>CPU (last 60 s)</th><th>memory</th><th></th></tr></thead><tbody></tbody></table>
<h2>Services</h2>
<table id="services"><thead><tr><th>name</th><th>domain</th><th>pid</th><th>state</th><th>restarts</th><th>last recovery</th><th>RSS MiB</th></tr></thead><tbody></tbody></table>
<h2>Console <span id="console-name"></span></h2>
<pre id="console">(pick a guest above)</pre>
<h2>Kernel message log</h2>
<pre id="dmesg"></pre>
<script>
"use strict";
const history = new Map(); // domain name -> {cpu: [], mem: [], lastCpu, lastT}
const keep = 60;
let consoleSource = null;

function cell(row, text, cls) { const td = row.insertCell(); td.textContent = text; if (cls) td.className = cls; return td; }

function chart(canvas, values, max, color) {
  const g = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  g.clearRect(0, 0, w, h); g.strokeStyle = color; g.beginPath();
  values.forEach((v, i) => { const x = w - (values.length - 1 - i) * (w / keep), y = h - 1 - (max > 0 ? v / max : 0) * (h - 2); i ? g.lineTo(x, y) : g.moveTo(x, y); });
  g.stroke();
}

function showConsole(name) {
  if (consoleSource) consoleSource.close();
  const out = document.getElementById("console");
  out.textContent = ""; out.dataset.name = name;
  document.getElementById("console-name").textContent = name;
  consoleSource = new EventSource("/console/" + encodeURIComponent(name));
  consoleSource.addEventListener("output", e => { out.textContent += JSON.parse(e.data); out.scrollTop = out.scrollHeight; });
  consoleSource.addEventListener("closed", e => { out.textContent += "\n[" + JSON.parse(e.data) + "]\n"; consoleSource.close(); });
}

function render(s) {
  if (s.error) { document.getElementById("status").textContent = s.error; document.getElementById("status").className = "bad"; return; }
  document.getElementById("status").textContent = "live"; document.getElementById("status").className = "";
  document.getElementById("host").textContent = `${s.host.pcpus} pCPUs, ${s.host.free_mib} of ${s.host.memory_mib} MiB free, kernel ${s.host.kernel}, up ${s.host.uptime_s} s`;
  const body = document.querySelector("#domains tbody"), seen = new Set();
  body.textContent = "";
  for (const d of s.domains) {
    seen.add(d.name);
    let h = history.get(d.name);
    if (!h) { h = { cpu: [], mem: [], lastCpu: d.cpu_s, lastT: s.t }; history.set(d.name, h); }
    const dt = (s.t - h.lastT) / 1000, pct = dt > 0 ? Math.max(0, 100 * (d.cpu_s - h.lastCpu) / dt) : 0;
    if (dt > 0) { h.cpu.push(pct); h.mem.push(d.memory_kib / 1024); if (h.cpu.length > keep) { h.cpu.shift(); h.mem.shift(); } }
    h.lastCpu = d.cpu_s; h.lastT = s.t;
    const row = body.insertRow(); row.dataset.name = d.name; row.dataset.state = d.state;
    cell(row, d.id, "n"); cell(row, d.name + (d.service ? " (service)" : "")); cell(row, d.state);
    cell(row, `${d.vcpus} (${d.vcpu_states.join(" ")})`); cell(row, pct.toFixed(1), "n"); cell(row, (d.memory_kib / 1024).toFixed(1), "n");
    const c1 = document.createElement("canvas"); c1.width = 180; c1.height = 30; cell(row, "").appendChild(c1); chart(c1, h.cpu, Math.max(100, ...h.cpu), "#06c");
    const c2 = document.createElement("canvas"); c2.width = 120; c2.height = 30; cell(row, "").appendChild(c2); chart(c2, h.mem, d.max_memory_kib / 1024, "#090");
    if (!d.service && d.id !== 0) { const b = document.createElement("button"); b.textContent = "console"; b.onclick = () => showConsole(d.name); cell(row, "").appendChild(b); } else cell(row, "");
  }
  for (const name of [...history.keys()]) if (!seen.has(name)) history.delete(name);
  const services = document.querySelector("#services tbody");
  services.textContent = "";
  for (const v of s.services) {
    const row = services.insertRow(); row.dataset.name = v.name;
    cell(row, v.name); cell(row, v.domain, "n"); cell(row, v.pid ?? "-", "n"); cell(row, v.state);
    cell(row, v.restarts, "n restarts");
    cell(row, v.last_recovery_ms !== undefined ? `${v.last_recovery_ms} ms (${v.last_cause})` : "-", "recovery");
    cell(row, (v.rss_bytes / 1048576).toFixed(1), "n");
  }
}

async function dmesg() {
  try { const r = await fetch("/dmesg"); if (r.ok) { const p = document.getElementById("dmesg"); p.textContent = await r.text(); p.scrollTop = p.scrollHeight; } } catch (e) { }
}

const events = new EventSource("/events");
events.addEventListener("state", e => render(JSON.parse(e.data)));
events.onerror = () => { document.getElementById("status").textContent = "disconnected (retrying)"; document.getElementById("status").className = "bad"; };
dmesg(); setInterval(dmesg, 5000);
</script>
</body>
</html>
""";
}
