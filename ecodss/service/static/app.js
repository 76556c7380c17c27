// ecodss dashboard: plain JS against the HTTP API (no build step).
"use strict";
const LEVELS = ["none", "yellow", "orange", "red"];
const AQI_COLOURS = [[50, "#00E400"], [100, "#FFFF00"], [150, "#FF7E00"], [200, "#FF0000"],
                     [300, "#99004C"], [Infinity, "#7E0023"]];  // HJ 633-2012 Table 2
let key = sessionStorage.getItem("ecodss-key") || "";
let latestCities = [];

function readKeyFromHash() {
  const m = /(?:^#|&)key=([^&]+)/.exec(location.hash);
  if (m) {
    key = decodeURIComponent(m[1]);
    sessionStorage.setItem("ecodss-key", key);
    history.replaceState(null, "", location.pathname);
  }
}

function setStatus(text) { document.getElementById("status").textContent = text; }

async function api(path, options = {}) {
  const headers = Object.assign({ Authorization: `Bearer ${key}` }, options.headers || {});
  const resp = await fetch(path, Object.assign({}, options, { headers }));
  if (!resp.ok) {
    let detail = resp.statusText;
    try { detail = (await resp.json()).detail; } catch (e) { /* not JSON */ }
    throw new Error(`${resp.status}: ${detail}`);
  }
  return resp;
}

function aqiColour(v) {
  for (const [top, colour] of AQI_COLOURS) if (v <= top) return colour;
  return "#BBBBBB";
}

function aqiCells(values) {
  return (values || []).map(v => v === null ? "<span class='aqi'>–</span>" :
    `<span class="aqi" style="background:${aqiColour(v)};color:${v > 200 ? "#fff" : "#000"}">${Math.round(v)}</span>`).join("");
}

function text(s) { const d = document.createElement("div"); d.textContent = String(s); return d.innerHTML; }

async function loadCities() {
  const data = await (await api("/cities")).json();
  latestCities = data.cities;
  const body = document.querySelector("#cities tbody");
  body.innerHTML = "";
  document.getElementById("cities-empty").hidden = data.cities.length > 0;
  const select = document.getElementById("plan-city");
  select.innerHTML = "";
  for (const c of data.cities) {
    const d = c.decision || {};
    const level = d.level_name || "none";
    const shares = d.reduction_share ? Object.entries(d.reduction_share)
      .filter(([, v]) => v > 0).map(([k, v]) => `${k} ${Math.round(100 * v)} %`).join(", ") : "";
    const tr = document.createElement("tr");
    tr.dataset.city = c.city;
    tr.innerHTML = `<td>${text(c.city)}</td>` +
      `<td><span class="level level-${text(level)}" data-level="${text(level)}">${text(level)}</span></td>` +
      `<td>${text(shares || "–")}</td><td>${aqiCells(c.aqi)}</td>` +
      `<td>${text(c.job.processID)} ${text((c.dates || [])[0] || "")}</td>`;
    body.appendChild(tr);
    const opt = document.createElement("option");
    opt.value = opt.textContent = c.city;
    select.appendChild(opt);
  }
  if (data.cities.length) await loadMap(data.cities[0].job.jobID);
}

async function loadMap(jobId) {
  const blob = await (await api(`/jobs/${jobId}/results`, { headers: { Accept: "image/png" } })).blob();
  const img = document.getElementById("map");
  img.src = URL.createObjectURL(blob);
  img.hidden = false;
  document.getElementById("map-caption").textContent = `job ${jobId.slice(0, 12)}, first member and day`;
}

async function waitForJob(jobId) {
  for (;;) {
    const job = await (await api(`/jobs/${jobId}`)).json();
    setStatus(`job ${jobId.slice(0, 8)}: ${job.status} ${Math.round(100 * job.progress)} %`);
    if (["successful", "failed", "dismissed"].includes(job.status)) return job;
    await new Promise(r => setTimeout(r, 500));
  }
}

async function runPlan() {
  const city = latestCities.find(c => c.city === document.getElementById("plan-city").value);
  if (!city) return;
  const processes = (await (await api("/processes")).json()).processes.map(p => p.id);
  const note = document.getElementById("plan-note");
  let path, inputs;
  if (processes.includes("emergency_plan")) {
    path = "/processes/emergency_plan/execution";
    inputs = { city: city.city, start: city.dates[0], daily_aqi: city.aqi };
    note.textContent = "least-cost emergency plan (ecodss.emergency.plan)";
  } else {
    // No plan module on this server: a drill — the forecast rolled back by each alert level's
    // uniform reduction shares (2018 scheme), to see which level brings the AQI down.
    const forecast = city.dates.map((d, i) => {
      const rec = { city: city.city, date: d };
      if (city.pm25_daily) rec["PM2.5"] = city.pm25_daily[i];
      if (city.pm10_daily) rec.PM10 = city.pm10_daily[i];
      return rec;
    });
    path = "/processes/rollback/execution";
    inputs = { name: `drill-${city.city}`, forecast,
               scenario: { kind: "list", members: [0, 1, 2, 3].map(level => ({ level })) } };
    note.textContent = "emergency drill (uniform cuts of each alert level, proportional " +
      "rollback) — the least-cost plan process is not installed on this server";
  }
  const resp = await api(path, { method: "POST", headers: { "Content-Type": "application/json" },
                                 body: JSON.stringify({ inputs }) });
  const job = await waitForJob((await resp.json()).jobID);
  if (job.status !== "successful") { note.textContent += ` — job ${job.status}: ${job.message}`; return; }
  const res = await (await api(`/jobs/${job.jobID}/results`)).json();
  const params = Object.fromEntries(res.results.members.map(m => [m.label, m.parameters]));
  const rows = res.results.cities.filter(r => r.city === city.city);
  document.querySelector("#plan thead").innerHTML =
    "<tr><th>Member</th><th>Measures</th><th>Daily AQI</th><th>Alert level</th></tr>";
  document.querySelector("#plan tbody").innerHTML = rows.map(r =>
    `<tr><td>${text(r.member)}</td><td>${text(JSON.stringify(params[r.member]))}</td>` +
    `<td>${aqiCells(r.aqi)}</td><td>${text(LEVELS[Math.max(...r.alert_level)])}</td></tr>`).join("");
}

async function refresh() {
  try {
    setStatus("loading…");
    await loadCities();
    setStatus(`updated ${new Date().toLocaleTimeString()}`);
  } catch (e) { setStatus(e.message); }
}

document.getElementById("key-form").addEventListener("submit", ev => {
  ev.preventDefault();
  key = document.getElementById("key").value.trim();
  sessionStorage.setItem("ecodss-key", key);
  refresh();
});
document.getElementById("plan-run").addEventListener("click", () => runPlan().catch(e => setStatus(e.message)));
readKeyFromHash();
if (key) refresh(); else setStatus("enter an API key");
