"use strict";
// The web form: posts the ECG with name and email to the prediction API and shows the decoded result.
(() => {
  const form = document.getElementById("predict-form");
  const status = document.getElementById("status");
  const submit = document.getElementById("submit");
  const fields = ["name", "email", "ecg"];
  const pct = (p) => `${(p * 100).toFixed(1)}%`;

  function showErrors(errors) {
    for (const f of fields) document.getElementById(`${f}-error`).textContent = (errors[f] || []).join(" ");
  }

  function clientErrors() {
    const errors = {};
    if (!form.name.value.trim()) errors.name = ["Name is required."];
    const email = form.email.value.trim();
    if (!email) errors.email = ["Email is required."];
    else if (!/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(email)) errors.email = ["Email must be a valid address such as name@example.org."];
    if (form.ecg.files.length === 0) errors.ecg = ["Attach an ECG file."];
    return errors;
  }

  function drawCurve(points) {
    const svg = document.getElementById("curve");
    const w = 400, h = 220, left = 40, bottom = 30, top = 10, right = 10;
    const maxDay = points[points.length - 1].day;
    const x = (d) => left + (d / maxDay) * (w - left - right);
    const y = (p) => top + (1 - p) * (h - top - bottom);
    const path = [[0, 1], ...points.map((p) => [p.day, p.af_free_probability])]
      .map(([d, p], i) => `${i ? "L" : "M"}${x(d).toFixed(1)},${y(p).toFixed(1)}`).join(" ");
    const years = Math.round(maxDay / 365.25);
    let ticks = "";
    for (let yr = 0; yr <= years; yr++) {
      ticks += `<text x="${x(yr * 365.25)}" y="${h - 10}" font-size="11" text-anchor="middle">${yr}</text>`;
    }
    svg.innerHTML = `<line x1="${left}" y1="${y(0)}" x2="${w - right}" y2="${y(0)}" stroke="#888"/>
      <line x1="${left}" y1="${top}" x2="${left}" y2="${y(0)}" stroke="#888"/>
      <text x="5" y="${y(1) + 4}" font-size="11">100%</text><text x="5" y="${y(0)}" font-size="11">0%</text>
      ${ticks}<text x="${w / 2}" y="${h}" font-size="11" text-anchor="middle">years</text>
      <path d="${path}" fill="none" stroke="#0b5cad" stroke-width="2"/>`;
    const last = points[points.length - 1];
    document.getElementById("curve-desc").textContent =
      `AF-free probability falls from 100% to ${pct(last.af_free_probability)} over ${years} years.`;
  }

  function render(r) {
    const banner = document.getElementById("standin-banner");
    banner.hidden = r.model.weights !== "stand-in";
    banner.textContent = r.notice;
    const res = r.result;
    document.getElementById("af-risk").textContent = res.af_risk ? pct(res.af_risk.probability) : "n/a";
    document.getElementById("af-in-ecg").textContent = res.af_in_ecg_probability != null ? pct(res.af_in_ecg_probability) : "n/a";
    document.getElementById("sex").textContent = res.sex ? `female ${pct(res.sex.female)}, male ${pct(res.sex.male)}` : "n/a";
    document.getElementById("age").textContent = res.age_years != null ? `${res.age_years.toFixed(1)} years` : "n/a";
    document.getElementById("af-warning").hidden = !(res.af_in_ecg_probability >= 0.5);
    if (res.survival_curve) drawCurve(res.survival_curve);
    const i = r.input;
    document.getElementById("input-facts").textContent =
      `${i.format}, ${i.source_sample_rate_hz} Hz, ${i.source_duration_s} s; leads derived: ${i.leads_derived.join(", ") || "none"}; ` +
      `resampled: ${i.resampled ? "yes" : "no"}; quality flags: ${res.quality_flags.join(", ") || "none"}.`;
    const m = r.model;
    document.getElementById("model-facts").textContent =
      `${m.name} version ${m.version}, weights ${m.weights}, execution provider ${m.execution_provider}.`;
    document.getElementById("result").hidden = false;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const errors = clientErrors();
    showErrors(errors);
    if (Object.keys(errors).length) return;
    const body = new FormData();
    body.append("name", form.name.value.trim());
    body.append("email", form.email.value.trim());
    for (const file of form.ecg.files) body.append("ecg", file, file.name);
    submit.disabled = true;
    status.textContent = "Uploading and scoring…";
    try {
      const response = await fetch("/api/v1/predictions", { method: "POST", body });
      const json = await response.json().catch(() => ({}));
      if (!response.ok) {
        if (json.errors) showErrors(json.errors);
        else document.getElementById("ecg-error").textContent = json.detail || json.title || `Request failed (${response.status}).`;
        status.textContent = "";
        return;
      }
      status.textContent = "Done.";
      render(json);
    } catch (e) {
      status.textContent = "The service could not be reached. Check your connection and try again.";
    } finally {
      submit.disabled = false;
    }
  });
})();
