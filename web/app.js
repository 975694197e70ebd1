"use strict";
// Ecg2Af web form: checks the input as the server does, posts it to the prediction API, and shows the result
// (figures, survival chart, the ECG on grid paper) or, in batch mode, a table with a CSV download.
// Plain JavaScript, no dependencies, nothing loaded from elsewhere.
(() => {
  // Limits and rules the server enforces (Uploads:MaxRequestBytes, Uploads:MaxFiles, PredictionForm).
  const MAX_REQUEST_BYTES = 32 * 1024 * 1024;
  const MAX_FILES = 16;
  const MAX_NAME = 200;
  // The prediction answer carries the millivolt leads for the plot (include=leads_mv): each ECG is uploaded once.
  const API = { predict: "/api/v1/predictions", predictWithLeads: "/api/v1/predictions?include=leads_mv", batch: "/api/v1/predictions:batch" };
  const FIELDS = ["name", "email", "api-key", "ecg", "sample_rate_hz", "allow_flat_leads"];

  const $ = (id) => document.getElementById(id);
  const form = $("predict-form");
  const submit = $("submit");
  const status = $("status");
  const progress = $("progress");
  const fileInput = $("ecg");
  let files = [];
  let csvUrl = null;

  // ---------- formatting ----------
  const pct = (p) => `${(p * 100).toFixed(1)}%`;
  const num = (v, digits) => Number(v).toFixed(digits);
  const bytes = (n) => (n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(1)} MiB`);
  const ext = (name) => { const i = name.lastIndexOf("."); return i < 0 ? "" : name.slice(i + 1).toLowerCase(); };
  const stem = (name) => { const i = name.lastIndexOf("."); return i < 0 ? name : name.slice(0, i); };
  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };
  const mode = () => form.querySelector("input[name=mode]:checked").value;

  // ---------- client-side checks (the same rules and words as the server) ----------
  function validEmail(email) {
    // PredictionForm.IsValidEmail: a plain address (no display name), a dotted domain, no trailing dot, <= 254 chars.
    if (email.length > 254) return false;
    const m = /^([^\s@<>()[\]\\,;:"]+)@([^\s@<>()[\]\\,;:"]+)$/.exec(email);
    if (!m) return false;
    const [, local, host] = m;
    return !local.startsWith(".") && !local.endsWith(".") && !local.includes("..")
      && host.includes(".") && !host.startsWith(".") && !host.endsWith(".") && !host.includes("..");
  }

  async function head(file, n) {
    return new Uint8Array(await file.slice(0, n).arrayBuffer());
  }

  const startsWith = (b, sig) => sig.every((v, i) => b[i] === v);
  const ascii = (s) => Array.from(s, (c) => c.charCodeAt(0));

  // What the server's sniffer refuses at once (Sniffer.KnownBinary), told in the same words.
  function knownNonEcg(b) {
    if (startsWith(b, ascii("%PDF"))) return "a PDF document (an ECG printout cannot be read as signals)";
    if (startsWith(b, [0x89, 0x50, 0x4e, 0x47])) return "a PNG image";
    if (startsWith(b, [0xff, 0xd8, 0xff])) return "a JPEG image";
    if (startsWith(b, ascii("GIF8"))) return "a GIF image";
    if (startsWith(b, ascii("MATLAB 5.0 MAT-file"))) return "a MATLAB v5 file (upload the PhysioNet .hea header with a Challenge .mat)";
    if (startsWith(b, [0x37, 0x7a, 0xbc])) return "a 7-Zip archive (only .zip is opened)";
    if (startsWith(b, ascii("Rar!"))) return "a RAR archive (only .zip is opened)";
    return null;
  }

  // The signal file names a WFDB header lists (first token of each signal line), or null if it is not a header.
  async function wfdbSignalFiles(file) {
    const text = new TextDecoder().decode(await head(file, 64 * 1024));
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    if (!lines.length) return null;
    const record = lines[0].split(/\s+/);
    const count = Number(record[1]);
    if (record.length < 2 || !Number.isInteger(count) || count < 1 || record[0].includes("/")) return null;
    return [...new Set(lines.slice(1, 1 + count).map((l) => l.split(/\s+/)[0]))];
  }

  // Groups files into records as the server's batch upload does: each header with the files it names and any
  // file of the same record name; every other file on its own.
  async function splitRecords(list) {
    const pool = [...list];
    const groups = [];
    for (const file of list) {
      if (ext(file.name) !== "hea" || !pool.includes(file)) continue;
      const signals = (await wfdbSignalFiles(file)) || [];
      pool.splice(pool.indexOf(file), 1);
      const members = [file];
      const missing = [];
      for (const name of signals) {
        const match = pool.find((p) => p.name === name);
        if (match) { pool.splice(pool.indexOf(match), 1); members.push(match); } else missing.push(name);
      }
      for (const extra of pool.filter((p) => stem(p.name) === stem(file.name))) {
        pool.splice(pool.indexOf(extra), 1);
        members.push(extra);
      }
      groups.push({ name: stem(file.name), files: members, missing });
    }
    for (const rest of pool) groups.push({ name: stem(rest.name), files: [rest], missing: [] });
    return groups.sort((a, b) => list.indexOf(a.files[0]) - list.indexOf(b.files[0])); // upload order
  }

  async function fileErrors(list, batch) {
    if (!list.length) return ["Attach an ECG file."];
    const messages = [];
    const total = list.reduce((s, f) => s + f.size, 0);
    if (!batch && list.length > MAX_FILES) messages.push(`At most ${MAX_FILES} files make one record; ${list.length} were chosen.`);
    if (!batch && total > MAX_REQUEST_BYTES) messages.push(`The files add up to ${bytes(total)}; one request may carry at most 32 MiB.`);
    for (const file of list) {
      if (file.size === 0) { messages.push(`'${file.name}' is empty.`); continue; }
      if (batch && file.size > MAX_REQUEST_BYTES) messages.push(`'${file.name}' is ${bytes(file.size)}; one record may be at most 32 MiB.`);
      const what = knownNonEcg(await head(file, 32));
      if (what) messages.push(`'${file.name}' is ${what}, not an ECG format this service reads.`);
    }
    const groups = await splitRecords(list);
    for (const g of groups) {
      for (const name of g.missing) {
        messages.push(`The WFDB header '${g.files[0].name}' names the signal file '${name}', which is not attached. Add it to the same upload.`);
      }
      const e = ext(g.files[0].name);
      if (g.files.length === 1 && (e === "dat" || e === "mat")) {
        messages.push(`'${g.files[0].name}' is a WFDB signal file; it needs its .hea header in the same upload.`);
      }
    }
    if (!batch && groups.length > 1) {
      messages.push(`These ${list.length} files do not form one record. Send one ECG file, a WFDB header with its signal files, or choose "Many ECGs (batch)".`);
    }
    return messages;
  }

  async function clientErrors() {
    const errors = {};
    const name = form.name.value.trim();
    const email = form.email.value.trim();
    if (!name) errors.name = ["Name is required."];
    else if (name.length > MAX_NAME) errors.name = [`Name must be at most ${MAX_NAME} characters.`];
    if (!email) errors.email = ["Email is required."];
    else if (!validEmail(email)) errors.email = ["Email must be a valid address such as name@example.org."];
    const fileMessages = await fileErrors(files, mode() === "batch");
    if (fileMessages.length) errors.ecg = fileMessages;
    // Batch mode is a programmatic route: say so before uploading anything the gateway would refuse (401).
    if (mode() === "batch" && !$("api-key").value.trim()) {
      errors["api-key"] = ["API key required: many ECGs at once need an API key (ask the service's administrator; a local run keeps one in data/dev-api-key). One ECG is scored without a key."];
    }
    return errors;
  }

  function showErrors(errors, focus) {
    let first = null;
    for (const f of FIELDS) {
      const messages = errors[f] || [];
      $(`${f}-error`).textContent = messages.join(" ");
      const input = $(f);
      if (messages.length) { input.setAttribute("aria-invalid", "true"); first = first || input; } else input.removeAttribute("aria-invalid");
    }
    // Fields the page has no input for (sample_rate_hz, units, model...) are reported under the form.
    const others = Object.entries(errors).filter(([k]) => !FIELDS.includes(k)).map(([, v]) => v.join(" "));
    $("form-error").textContent = others.join(" ");
    if (focus && first) first.focus();
  }

  // ---------- file selection and drag and drop ----------
  function setFiles(list) {
    files = Array.from(list);
    const ul = $("file-list");
    ul.replaceChildren(...files.map((f) => el("li", {}, `${f.name} (${bytes(f.size)})`)));
    $("ecg-error").textContent = "";
    fileInput.removeAttribute("aria-invalid");
  }

  fileInput.addEventListener("change", () => setFiles(fileInput.files));
  const zone = $("drop-zone");
  for (const type of ["dragenter", "dragover"]) {
    zone.addEventListener(type, (e) => { e.preventDefault(); zone.classList.add("dragging"); });
  }
  for (const type of ["dragleave", "drop"]) {
    zone.addEventListener(type, () => zone.classList.remove("dragging"));
  }
  zone.addEventListener("drop", (e) => {
    e.preventDefault();
    if (!e.dataTransfer || !e.dataTransfer.files.length) return;
    try { fileInput.files = e.dataTransfer.files; } catch { /* older browsers: keep our own list */ }
    setFiles(e.dataTransfer.files);
  });

  for (const radio of form.querySelectorAll("input[name=mode]")) {
    radio.addEventListener("change", () => {
      const batch = mode() === "batch";
      submit.textContent = batch ? "Score all ECGs" : "Estimate risk";
      $("ecg-hint-mode").textContent = batch
        ? "Many records: any number of files; a WFDB header is grouped with its data files by record name; a .zip counts as one upload."
        : "One record: one file, a WFDB header (.hea) together with its data file (.dat or .mat), or a .zip of one record.";
    });
  }

  // ---------- talking to the API ----------
  function setProgress(text, value) {
    status.textContent = text;
    if (value === null) { progress.hidden = true; return; }
    progress.hidden = false;
    if (value === undefined) progress.removeAttribute("value"); else progress.value = value;
  }

  // POST with upload progress (fetch cannot report it). Resolves { status, json }.
  // The API key typed into the form, for the routes that need one (never for the keyless single prediction).
  function withKey(xhr) {
    const key = $("api-key").value.trim();
    if (key) xhr.setRequestHeader("X-Api-Key", key);
  }

  function post(url, body, onUpload, accept = "application/json", keyed = false) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", url);
      xhr.setRequestHeader("Accept", accept);
      if (keyed) withKey(xhr);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable && onUpload) onUpload(e.loaded / e.total); };
      xhr.upload.onload = () => onUpload && onUpload(1);
      xhr.onload = () => {
        let json = null;
        try { json = JSON.parse(xhr.responseText); } catch { json = null; }
        resolve({ status: xhr.status, json, retryAfter: xhr.getResponseHeader("Retry-After") });
      };
      xhr.onerror = () => reject(new Error("network"));
      xhr.send(body);
    });
  }

  function ecgForm(list, withPerson) {
    const body = new FormData();
    if (withPerson) {
      body.append("name", form.name.value.trim());
      body.append("email", form.email.value.trim());
    }
    for (const f of list) body.append("ecg", f, f.name);
    const rate = $("sample_rate_hz").value.trim();
    if (rate) body.append("sample_rate_hz", rate);
    if ($("allow_flat_leads").checked) body.append("allow_flat_leads", "true");
    return body;
  }

  // Plain words for a failed answer; where it belongs (a field, or the form as a whole).
  function explain(response) {
    const p = response.json || {};
    if (p.errors && typeof p.errors === "object") return { errors: p.errors };
    const text = [p.title, p.detail].filter(Boolean).join(": ") || `The request failed (HTTP ${response.status}).`;
    if ([400, 413, 415, 422].includes(response.status)) return { errors: { ecg: [text] } };
    if (response.status === 401 || response.status === 403) return { errors: { "api-key": [text] } };
    if (response.status === 503 || response.status === 429) {
      const wait = response.retryAfter ? ` Try again in about ${response.retryAfter} seconds.` : " Try again shortly.";
      return { general: `The service is busy or unavailable right now (${p.title || response.status}).${wait}` };
    }
    return { general: text };
  }

  // ---------- single ECG ----------
  async function scoreOne() {
    const body = ecgForm(files, true);
    setProgress("Uploading… 0%", 0);
    const response = await post(API.predictWithLeads, body, (f) => {
      if (f < 1) setProgress(`Uploading… ${Math.round(f * 100)}%`, f * 100);
      else setProgress("Scoring the ECG…", undefined);
    });
    if (response.status !== 200 || !response.json) {
      const { errors, general } = explain(response);
      if (errors) showErrors(errors, true);
      if (general) $("form-error").textContent = general;
      setProgress("", null);
      return;
    }
    setProgress("Done.", null);
    renderResult(response.json);
    // The same upload's millivolt leads (at the source rate) draw the ECG.
    if (response.json.leads_mv) drawEcg(response.json.leads_mv);
    else $("ecg-status").textContent = "The ECG could not be drawn: the answer carried no leads.";
  }

  function standIn(r) { return r.model && r.model.weights === "stand-in"; }

  function setFigure(id, value, text) {
    const node = $(id);
    node.textContent = text;
    if (value === null || value === undefined) node.removeAttribute("data-value");
    else node.dataset.value = String(value);
  }

  function renderResult(r) {
    const res = r.result;
    $("batch-result").hidden = true;
    $("report-time").textContent = new Date().toLocaleString();
    $("report-id").textContent = r.id;
    $("standin-banner").hidden = !standIn(r);
    $("standin-repeat").hidden = !standIn(r);
    $("standin-text").textContent = r.notice || "";
    $("notice-box").hidden = standIn(r) || !r.notice;
    $("notice-box").textContent = standIn(r) ? "" : (r.notice || "");
    $("result-record").textContent = `Record ${r.input.record_name || "(unnamed)"} · prediction ${r.id}`;

    const risk = res.af_risk ? res.af_risk.probability : null;
    const years = res.af_risk ? res.af_risk.horizon_years : 5;
    setFigure("af-risk", risk, risk === null ? "not available" : pct(risk));
    $("af-risk-meaning").textContent = risk === null ? "This model has no survival head."
      : standIn(r)
        ? `Stand-in weights: this number only shows how the service works and says nothing about this person's risk of AF within ${years} years.`
        : `The model estimates a ${pct(risk)} chance of a first AF diagnosis within ${years} years after this ECG (research estimate, not a diagnosis).`;

    const inEcg = res.af_in_ecg_probability;
    setFigure("af-in-ecg", inEcg, inEcg === null || inEcg === undefined ? "not available" : pct(inEcg));
    const warn = $("af-warning");
    warn.hidden = !(inEcg >= 0.5);
    warn.textContent = inEcg >= 0.5
      ? `AF may already be present on this ECG (probability ${pct(inEcg)}). The 5-year incident-AF risk estimate is not valid when AF is already present.`
      : "";

    // Scored on request although leads the model needs carry no signal: say so above the numbers, not only in the flags.
    const flat = (res.quality_flags || []).find((f) => f.startsWith("scored_with_flat_leads:"));
    $("flat-warning").hidden = !flat;
    $("flat-warning").textContent = flat
      ? `Scored with flat or missing leads (${flat.slice(flat.indexOf(":") + 1).split(",").join(", ")}): the model read zeros in their place, so these numbers are less reliable than for a complete ECG.`
      : "";

    if (res.sex) {
      const female = res.sex.female >= res.sex.male;
      setFigure("sex", res.sex.female, female ? "Female" : "Male");
      $("sex-detail").textContent = `Female ${pct(res.sex.female)}, male ${pct(res.sex.male)}.`;
      $("sex-detail").dataset.female = String(res.sex.female);
    } else {
      setFigure("sex", null, "not available");
      $("sex-detail").textContent = "";
    }
    setFigure("age", res.age_years, res.age_years === null || res.age_years === undefined ? "not available" : `${num(res.age_years, 1)} years`);

    if (res.survival_curve && res.survival_curve.length) drawCurve(res.survival_curve);
    else { $("curve").replaceChildren(); $("curve-desc").textContent = "This model has no survival curve."; $("curve-rows").replaceChildren(); }

    const i = r.input;
    facts("input-facts", [
      ["Format", i.format, "format"],
      ["Record", i.record_name || "(unnamed)"],
      ["Source sample rate", `${i.source_sample_rate_hz} Hz`],
      ["Source duration", `${i.source_duration_s} s`],
      ["Leads in the file", (i.leads_present || []).join(", ") || "none"],
      ["Leads derived", (i.leads_derived || []).join(", ") || "none", "leads-derived"],
      ["Resampled", i.resampled ? `yes, to the model's rate` : "no", "resampled"],
      ["Cropped / padded", `${i.cropped ? "cropped" : "not cropped"}, ${i.padded ? "padded" : "not padded"}`],
      ["Quality flags", (res.quality_flags || []).join(", ") || "none", "quality-flags"],
      ["Warnings", (i.warnings || []).join(" ") || "none"],
    ]);
    const m = r.model;
    facts("model-facts", [
      ["Model", m.name, "model-name"],
      ["Version", m.version, "model-version"],
      ["Weights", m.weights === "stand-in" ? "stand-in (placeholder weights, not clinical)" : m.weights, "model-weights"],
      ["Execution provider", m.execution_provider, "execution-provider"],
      ["ONNX SHA-256", m.sha256, "model-sha256"],
      ["Decoder", m.decoder || "n/a"],
    ]);

    $("ecg-plot").replaceChildren();
    $("ecg-plot").setAttribute("aria-label", "12-lead ECG plot (loading)");
    $("ecg-status").textContent = "Drawing the ECG…";
    $("result").hidden = false;
    $("result-title").focus();
  }

  function facts(id, rows) {
    const dl = $(id);
    dl.replaceChildren();
    for (const [term, value, key] of rows) {
      const div = el("div");
      div.append(el("dt", {}, term));
      const dd = el("dd", key ? { "data-fact": key } : {}, String(value));
      div.append(dd);
      dl.append(div);
    }
  }

  // ---------- survival chart (SVG) ----------
  const SVG = "http://www.w3.org/2000/svg";
  const svgEl = (tag, attrs = {}, text) => {
    const node = document.createElementNS(SVG, tag);
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    if (text !== undefined) node.textContent = text;
    return node;
  };

  function drawCurve(points) {
    const svg = $("curve");
    const W = 520, H = 300, left = 64, right = 16, top = 16, bottom = 52;
    const maxDay = points[points.length - 1].day;
    const years = Math.max(1, Math.round(maxDay / 365.25));
    const x = (d) => left + (d / (years * 365.25)) * (W - left - right);
    const y = (p) => top + (1 - p) * (H - top - bottom);
    const nodes = [];
    for (let k = 0; k <= 4; k++) {
      const p = k / 4;
      nodes.push(svgEl("line", { x1: left, x2: W - right, y1: y(p), y2: y(p), class: "grid" }));
      nodes.push(svgEl("text", { x: left - 8, y: y(p) + 4, "text-anchor": "end", class: "tick" }, `${p * 100}%`));
    }
    for (let yr = 0; yr <= years; yr++) {
      nodes.push(svgEl("line", { x1: x(yr * 365.25), x2: x(yr * 365.25), y1: y(0), y2: y(0) + 5, class: "axis" }));
      nodes.push(svgEl("text", { x: x(yr * 365.25), y: y(0) + 20, "text-anchor": "middle", class: "tick" }, String(yr)));
    }
    nodes.push(svgEl("line", { x1: left, x2: W - right, y1: y(0), y2: y(0), class: "axis" }));
    nodes.push(svgEl("line", { x1: left, x2: left, y1: top, y2: y(0), class: "axis" }));
    nodes.push(svgEl("text", { x: (left + W - right) / 2, y: H - 8, "text-anchor": "middle", class: "label" }, "Years after this ECG"));
    nodes.push(svgEl("text", { x: 14, y: (top + y(0)) / 2, "text-anchor": "middle", class: "label",
      transform: `rotate(-90 14 ${(top + y(0)) / 2})` }, "AF-free probability"));
    // A step curve: the probability holds until the end of each bin.
    let d = `M${x(0)},${y(1)}`;
    let prev = 1;
    for (const pt of points) { d += ` H${x(pt.day).toFixed(1)} V${y(pt.af_free_probability).toFixed(1)}`; prev = pt.af_free_probability; }
    nodes.push(svgEl("path", { d, class: "curve" }));
    const last = points[points.length - 1];
    nodes.push(svgEl("circle", { cx: x(last.day), cy: y(prev), r: 4, class: "curve-end" }));
    nodes.push(svgEl("text", { x: x(last.day) - 6, y: y(prev) - 10, "text-anchor": "end", class: "tick" }, pct(last.af_free_probability)));
    svg.replaceChildren(...nodes);
    $("curve-desc").textContent =
      `Step chart of the probability of staying free of AF: 100% at the time of the ECG, falling to ${pct(last.af_free_probability)} at ${num(last.day / 365.25, 1)} years.`;
    $("curve-rows").replaceChildren(...points.map((pt) => {
      const tr = el("tr");
      tr.append(el("td", {}, num(pt.day / 365.25, 2)), el("td", {}, num(pt.day, 0)), el("td", {}, pct(pt.af_free_probability)));
      return tr;
    }));
  }

  // ---------- the ECG on grid paper (SVG in millimetres: 25 mm/s, 10 mm/mV) ----------
  const LAYOUT = [["I", "aVR", "V1", "V4"], ["II", "aVL", "V2", "V5"], ["III", "aVF", "V3", "V6"]];

  function median(values) {
    const a = Float64Array.from(values).sort();
    return a.length ? a[a.length >> 1] : 0;
  }

  function drawEcg(mv) {
    const svg = $("ecg-plot");
    const fs = mv.sample_rate_hz;
    const mmPerS = 25, mmPerMv = 10, cal = 8, rowH = 30, top = 4;
    const seconds = 10;
    const W = cal + seconds * mmPerS, H = top + rowH * 4 + 2;
    svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
    svg.setAttribute("width", `${W}mm`);
    svg.setAttribute("height", `${H}mm`);
    const defs = svgEl("defs");
    const small = svgEl("pattern", { id: "ecg-small", width: 1, height: 1, patternUnits: "userSpaceOnUse" });
    small.append(svgEl("path", { d: "M1 0 L0 0 0 1", class: "grid-minor" }));
    const big = svgEl("pattern", { id: "ecg-big", width: 5, height: 5, patternUnits: "userSpaceOnUse" });
    big.append(svgEl("rect", { width: 5, height: 5, fill: "url(#ecg-small)" }), svgEl("path", { d: "M5 0 L0 0 0 5", class: "grid-major" }));
    defs.append(small, big);
    const nodes = [defs, svgEl("rect", { x: 0, y: 0, width: W, height: H, class: "paper" }),
      svgEl("rect", { x: 0, y: 0, width: W, height: H, fill: "url(#ecg-big)" })];

    const centre = {};
    for (const [lead, values] of Object.entries(mv.leads)) centre[lead] = median(values);
    const trace = (lead, fromS, toS, x0, baseline) => {
      const values = mv.leads[lead];
      if (!values) return svgEl("text", { x: x0 + 2, y: baseline + 2, class: "ecg-missing" }, `${lead} missing`);
      const a = Math.max(0, Math.floor(fromS * fs)), b = Math.min(values.length, Math.ceil(toS * fs));
      const pts = [];
      for (let k = a; k < b; k++) {
        pts.push(`${(x0 + ((k - a) / fs) * mmPerS).toFixed(2)},${(baseline - (values[k] - centre[lead]) * mmPerMv).toFixed(2)}`);
      }
      return svgEl("polyline", { points: pts.join(" "), class: "ecg-trace" });
    };
    const calibration = (baseline) => svgEl("path", {
      d: `M1 ${baseline} H2.5 V${baseline - mmPerMv} H7.5 V${baseline} H${cal}`, class: "ecg-trace" });

    const colS = 2.5;
    LAYOUT.forEach((row, r) => {
      const baseline = top + rowH * r + rowH / 2;
      nodes.push(calibration(baseline));
      row.forEach((lead, c) => {
        const x0 = cal + c * colS * mmPerS;
        nodes.push(trace(lead, c * colS, (c + 1) * colS, x0, baseline));
        nodes.push(svgEl("text", { x: x0 + 1.5, y: baseline - rowH / 2 + 4.5, class: "ecg-label" }, lead));
        if (c > 0) nodes.push(svgEl("line", { x1: x0, x2: x0, y1: baseline - 3, y2: baseline + 3, class: "ecg-divider" }));
      });
    });
    const rhythm = top + rowH * 3 + rowH / 2;
    nodes.push(calibration(rhythm));
    nodes.push(trace("II", 0, seconds, cal, rhythm));
    nodes.push(svgEl("text", { x: cal + 1.5, y: rhythm - rowH / 2 + 4.5, class: "ecg-label" }, "II (rhythm)"));
    svg.replaceChildren(...nodes);

    const duration = mv.samples / fs;
    const derived = (mv.leads_derived || []).length ? ` Leads ${mv.leads_derived.join(", ")} were derived from I and II.` : "";
    svg.setAttribute("aria-label",
      `12-lead ECG of record ${mv.record_name || "(unnamed)"}: ${num(duration, 1)} seconds at ${fs} Hz, drawn in the standard 3 by 4 layout `
      + `(2.5 seconds per lead) with a 10-second lead II rhythm strip, on ECG grid paper at 25 mm/s and 10 mm/mV.${derived}`);
    $("ecg-status").textContent = duration < seconds
      ? `The recording is ${num(duration, 1)} s long; the plot shows all of it.`
      : duration > seconds ? `The recording is ${num(duration, 1)} s long; the plot shows the first 10 s.` : "";
  }

  // ---------- batch mode ----------
  // One batch request carries at most this many records and bytes (the gateway takes 32 MiB per request; the worker
  // Batch:MaxRecords, 1000 by default); more records go in several requests, one after the other.
  const MAX_BATCH_RECORDS = 100;
  const MAX_BATCH_BYTES = 24 * 1024 * 1024;

  function batchItem(item) {
    // The batch endpoint's item (docs/batch.md): {index, record, id, files, status, prediction | error}.
    const r = item && (item.prediction || item.response || (item.model ? item : null));
    if (r) return { ok: true, r };
    const p = (item && (item.error || item.problem)) || item || {};
    return { ok: false, status: p.status || item.status || 0, message: [p.title, p.detail].filter(Boolean).join(": ") || "failed" };
  }

  function rowFromItem(item) {
    const files = item.files || [];
    return {
      name: item.record, files: files.map((f) => f.name.split("/").pop()), sha256: files.map((f) => f.sha256 || ""),
      id: item.id || "", outcome: batchItem(item),
    };
  }

  function chunkGroups(groups) {
    const chunks = [];
    let chunk = [], size = 0;
    for (const g of groups) {
      const bytesOf = g.files.reduce((s, f) => s + f.size, 0);
      if (chunk.length && (chunk.length >= MAX_BATCH_RECORDS || size + bytesOf > MAX_BATCH_BYTES)) { chunks.push(chunk); chunk = []; size = 0; }
      chunk.push(g);
      size += bytesOf;
    }
    if (chunk.length) chunks.push(chunk);
    return chunks;
  }

  // POSTs one batch and reads its NDJSON answer while it streams, one item per line as each record is scored.
  // Resolves { status, json (a refusal's ProblemDetails), items, retryAfter }.
  function postBatch(body, onUpload, onItem) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      const items = [];
      let seen = 0;
      const take = () => {
        if (xhr.status !== 200) return;
        const text = xhr.responseText;
        for (let nl = text.indexOf("\n", seen); nl >= 0; nl = text.indexOf("\n", seen)) {
          const line = text.slice(seen, nl);
          seen = nl + 1;
          if (line.trim()) { const item = JSON.parse(line); items.push(item); onItem(item); }
        }
      };
      xhr.open("POST", API.batch);
      xhr.setRequestHeader("Accept", "application/x-ndjson");
      withKey(xhr);
      xhr.upload.onprogress = (e) => { if (e.lengthComputable) onUpload(e.loaded / e.total); };
      xhr.upload.onload = () => onUpload(1);
      xhr.onprogress = take;
      xhr.onload = () => {
        take();
        let json = null;
        if (xhr.status !== 200) { try { json = JSON.parse(xhr.responseText); } catch { json = null; } }
        resolve({ status: xhr.status, json, items, retryAfter: xhr.getResponseHeader("Retry-After") });
      };
      xhr.onerror = () => reject(new Error("network"));
      xhr.send(body);
    });
  }

  async function scoreBatch() {
    const groups = await splitRecords(files);
    const chunks = chunkGroups(groups);
    const rows = [];
    let scored = 0;
    for (let c = 0; c < chunks.length; c++) {
      const chunk = chunks[c];
      const part = chunks.length > 1 ? ` (part ${c + 1} of ${chunks.length})` : "";
      setProgress(`Uploading${part}… 0%`, 0);
      const answer = await postBatch(ecgForm(chunk.flatMap((g) => g.files), true), (f) => {
        if (f < 1) setProgress(`Uploading${part}… ${Math.round(f * 100)}%`, f * 100);
        else setProgress(`Scoring… ${scored} of ${groups.length} records done`, (scored / groups.length) * 100);
      }, () => {
        scored++;
        setProgress(`Scoring… ${scored} of ${groups.length} records done`, (scored / groups.length) * 100);
      });
      if (answer.status === 200) {
        answer.items.forEach((item) => rows.push(rowFromItem(item)));
        for (let k = answer.items.length; k < chunk.length; k++) {
          rows.push({ name: chunk[k].name, files: chunk[k].files.map((f) => f.name), sha256: [], id: "",
            outcome: { ok: false, status: 0, message: "The answer ended before this record was scored. Send it again." } });
        }
      } else if ((answer.status === 404 || answer.status === 405) && c === 0) {
        await scoreEachRecord(groups); // a server without the batch endpoint
        return;
      } else {
        const { errors, general } = explain(answer);
        if (c === 0 || (errors && (errors.name || errors.email))) {
          if (errors) showErrors(errors, true);
          if (general) $("form-error").textContent = general;
          setProgress("", null);
          return;
        }
        const message = general || Object.values(errors || {}).flat().join(" ");
        for (const g of chunk) {
          rows.push({ name: g.name, files: g.files.map((f) => f.name), sha256: [], id: "", outcome: { ok: false, status: answer.status, message } });
        }
      }
    }
    setProgress("Done.", null);
    renderBatch(rows);
  }

  // One prediction request per record, for a server that has no batch endpoint.
  async function scoreEachRecord(groups) {
    const rows = groups.map((g) => ({ name: g.name, files: g.files.map((f) => f.name), sha256: [], id: "", outcome: null }));
    for (let k = 0; k < groups.length; k++) {
      setProgress(`Scoring record ${k + 1} of ${groups.length}…`, (k / groups.length) * 100);
      const one = await post(API.predict, ecgForm(groups[k].files, true));
      if (one.status === 200 && one.json) rows[k].outcome = { ok: true, r: one.json };
      else {
        const { errors, general } = explain(one);
        if (errors && (errors.name || errors.email)) { showErrors(errors, true); setProgress("", null); return; }
        const message = general || Object.values(errors || {}).flat().join(" ");
        rows[k].outcome = { ok: false, status: one.status, message };
      }
      if (rows[k].outcome.ok) rows[k].id = one.json.id;
    }
    setProgress("Done.", null);
    renderBatch(rows);
  }

  function renderBatch(rows) {
    $("result").hidden = true;
    const tbody = $("batch-rows");
    tbody.replaceChildren();
    let anyStandIn = false, notice = "";
    for (const row of rows) {
      const tr = el("tr");
      const o = row.outcome || { ok: false, status: 0, message: "no answer" };
      tr.append(el("th", { scope: "row" }, row.name), el("td", {}, row.files.join(", ")));
      if (o.ok) {
        const res = o.r.result;
        if (standIn(o.r)) { anyStandIn = true; notice = o.r.notice; }
        tr.append(el("td", {}, "OK"),
          el("td", { "data-value": String(res.af_risk ? res.af_risk.probability : "") }, res.af_risk ? pct(res.af_risk.probability) : "n/a"),
          el("td", { "data-value": String(res.af_in_ecg_probability ?? "") }, res.af_in_ecg_probability != null ? pct(res.af_in_ecg_probability) : "n/a"),
          el("td", {}, res.sex ? pct(res.sex.female) : "n/a"),
          el("td", {}, res.age_years != null ? num(res.age_years, 1) : "n/a"),
          el("td", {}, (res.quality_flags || []).join(", ") || "none"));
        if (res.af_in_ecg_probability >= 0.5) tr.lastChild.textContent += " · AF may be present: the risk estimate is not valid";
      } else {
        tr.classList.add("failed");
        tr.append(el("td", {}, `Failed (${o.status || "?"})`), el("td"), el("td"), el("td"), el("td"), el("td", {}, o.message));
      }
      tbody.append(tr);
    }
    const ok = rows.filter((r) => r.outcome && r.outcome.ok).length;
    $("batch-summary").textContent = `${ok} of ${rows.length} records scored.`;
    $("batch-standin").hidden = !anyStandIn;
    $("batch-standin-text").textContent = notice;
    if (csvUrl) URL.revokeObjectURL(csvUrl);
    csvUrl = URL.createObjectURL(new Blob([toCsv(rows)], { type: "text/csv;charset=utf-8" }));
    $("csv-download").href = csvUrl;
    $("batch-result").hidden = false;
    $("batch-title").focus();
  }

  function csvCell(v) {
    let s = v === null || v === undefined ? "" : String(v).replace(/\r\n|\r|\n/g, " "); // one line per record, as the server's CSV
    if (/^[=+\-@\t\r]/.test(s) && Number.isNaN(Number(s))) s = `'${s}`; // no spreadsheet formulas from file names
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  }

  // The same columns as the batch endpoint's CSV (Accept: text/csv; docs/batch.md).
  function toCsv(rows) {
    const header = ["record", "files", "status", "af_risk_5y", "af_in_ecg_probability", "sex_female_probability", "age_years",
      "quality_flags", "format", "files_sha256", "model", "model_version", "weights", "execution_provider", "id", "error"];
    const lines = [header.join(",")];
    for (const row of rows) {
      const o = row.outcome || { ok: false, status: 0, message: "no answer" };
      const r = o.ok ? o.r : null;
      const res = r ? r.result : {};
      lines.push([
        row.name, row.files.join(";"), o.ok ? 200 : o.status,
        res.af_risk ? res.af_risk.probability : "", res.af_in_ecg_probability ?? "", res.sex ? res.sex.female : "", res.age_years ?? "",
        (res.quality_flags || []).join(";"), r ? r.input.format : "", (row.sha256 || []).join(";"), r ? r.model.name : "",
        r ? r.model.version : "", r ? r.model.weights : "", r ? r.model.execution_provider : "", row.id || (r ? r.id : ""), o.ok ? "" : o.message,
      ].map(csvCell).join(","));
    }
    return lines.join("\r\n") + "\r\n";
  }

  // ---------- wiring ----------
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    submit.disabled = true;
    $("form-error").textContent = "";
    try {
      const errors = await clientErrors();
      showErrors(errors, true);
      if (Object.keys(errors).length) return;
      if (mode() === "batch") await scoreBatch(); else await scoreOne();
    } catch (e) {
      setProgress("", null);
      $("form-error").textContent = "The service could not be reached. Check your connection and try again.";
    } finally {
      submit.disabled = false;
    }
  });

  $("print").addEventListener("click", () => window.print());
  $("batch-print").addEventListener("click", () => window.print());
  $("again").addEventListener("click", () => {
    $("result").hidden = true;
    setProgress("", null);
    fileInput.value = "";
    setFiles([]);
    fileInput.focus();
  });
})();
