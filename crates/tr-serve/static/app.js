// The page of `htr serve`: sends an image to POST /v1/predict, shows the
// text with unsure characters shaded, outlines the lines on the image and
// sends corrections to POST /v1/flag. No framework, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const SVG = "http://www.w3.org/2000/svg";
// Characters below this confidence are shaded on the image too.
const UNSURE = 0.9;

const state = { image: null, result: null };

function setState(s) { document.body.dataset.state = s; }

function showError(message) {
  const e = $("error");
  e.textContent = message;
  e.hidden = false;
  setState("error");
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(new Error("cannot read " + file.name));
    r.readAsDataURL(file);
  });
}

async function postJson(url, body) {
  const res = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  let data = null;
  try { data = await res.json(); } catch (_) { /* not JSON */ }
  if (!res.ok) {
    throw new Error((data && data.error) || ("HTTP " + res.status));
  }
  return data;
}

// Sends a data URL to the model and draws the answer; resolves to it.
async function predictDataUrl(dataUrl) {
  setState("busy");
  $("error").hidden = true;
  $("flag-status").textContent = "";
  state.image = dataUrl;
  const img = $("preview");
  const loaded = new Promise((resolve) => { img.onload = resolve; img.onerror = resolve; });
  img.src = dataUrl;
  $("result").hidden = false;
  $("text").textContent = "reading…";
  $("overlay").replaceChildren();
  try {
    const [result] = await Promise.all([postJson("/v1/predict", { image: dataUrl }), loaded]);
    state.result = result;
    render(result);
    setState("done");
    return result;
  } catch (e) {
    $("text").textContent = "";
    showError(e.message);
    throw e;
  }
}

async function predictFile(file) {
  if (!file) return;
  if (file.type && !file.type.startsWith("image/")) {
    showError(file.name + " is not an image (" + file.type + ")");
    return;
  }
  return predictDataUrl(await readAsDataUrl(file));
}

// Background of a character of confidence c: transparent when sure.
function shade(c) {
  const a = Math.max(0, Math.min(1, 1 - c)) * 0.9;
  return a < 0.05 ? "" : `rgba(230, 90, 20, ${a.toFixed(2)})`;
}

function render(r) {
  const text = $("text");
  text.replaceChildren();
  r.lines.forEach((line, i) => {
    if (i > 0) text.append("\n");
    [...line.text].forEach((ch, k) => {
      const span = document.createElement("span");
      span.className = "ch";
      span.textContent = ch;
      const c = line.char_confidences[k] ?? 1;
      span.dataset.confidence = c.toFixed(3);
      span.title = `${JSON.stringify(ch)}: ${(c * 100).toFixed(0)} %`;
      const bg = shade(c);
      if (bg) span.style.background = bg;
      text.append(span);
    });
  });
  if (!r.pred) text.textContent = "(no text found)";

  const svg = $("overlay");
  svg.setAttribute("viewBox", `0 0 ${r.width} ${r.height}`);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.replaceChildren();
  for (const line of r.lines) {
    if (line.polygon) {
      const p = document.createElementNS(SVG, "polygon");
      p.setAttribute("class", "outline");
      p.setAttribute("points", line.polygon.map(([x, y]) => `${x},${y}`).join(" "));
      svg.append(p);
    }
    // Unsure characters, where the model read them (CTC models give x).
    if (line.char_x && line.box) {
      const [bx, by, , bh] = line.box;
      const xs = line.char_x;
      xs.forEach((x, k) => {
        const c = line.char_confidences[k] ?? 1;
        if (c >= UNSURE) return;
        // Half the distance to a neighbour (10 px for a lone character).
        const half = k + 1 < xs.length ? (xs[k + 1] - x) / 2 : k > 0 ? (x - xs[k - 1]) / 2 : 10;
        const left = Math.max(bx, k > 0 ? (xs[k - 1] + x) / 2 : x - half);
        const right = k + 1 < xs.length ? (x + xs[k + 1]) / 2 : x + half;
        const rect = document.createElementNS(SVG, "rect");
        rect.setAttribute("class", "unsure");
        rect.setAttribute("x", left);
        rect.setAttribute("y", by);
        rect.setAttribute("width", Math.max(2, right - left));
        rect.setAttribute("height", bh);
        rect.setAttribute("opacity", Math.min(0.6, (1 - c) * 0.8).toFixed(2));
        svg.append(rect);
      });
    }
  }
  const t = r.timings_ms;
  $("stats").textContent =
    `confidence ${(r.confidence * 100).toFixed(1)} % · read as ${r.read_as} · model ${r.model.name} (${r.model.decoder}) · ` +
    `${r.width}×${r.height} px · ${t.total.toFixed(0)} ms (decode ${t.decode.toFixed(1)}, queue ${t.queue.toFixed(1)}, ` +
    `preprocess ${t.preprocess.toFixed(1)}, model ${t.model.toFixed(1)}; batch of ${r.batch_size})`;
  $("correction").value = r.pred;
}

async function flag(event) {
  event.preventDefault();
  if (!state.image || !state.result) return;
  const status = $("flag-status");
  status.textContent = "sending…";
  try {
    const out = await postJson("/v1/flag", {
      image: state.image,
      prediction: state.result.pred,
      correction: $("correction").value,
      confidence: state.result.confidence,
    });
    status.textContent = `Thank you: stored as ${out.id}.`;
    document.body.dataset.flag = out.id;
  } catch (e) {
    status.textContent = "Not stored: " + e.message;
  }
}

async function loadExamples() {
  try {
    const res = await fetch("/examples.json");
    const list = await res.json();
    for (const ex of list) {
      const b = document.createElement("button");
      b.type = "button";
      b.title = ex.text;
      b.dataset.example = ex.name;
      const img = document.createElement("img");
      img.src = ex.url;
      img.alt = ex.text;
      b.append(img);
      b.onclick = async () => {
        const blob = await (await fetch(ex.url)).blob();
        predictFile(new File([blob], ex.name, { type: "image/png" })).catch(() => {});
      };
      $("examples").append(b);
    }
  } catch (_) { /* the page works without examples */ }
}

async function loadModel() {
  try {
    const h = await (await fetch("/healthz")).json();
    $("model").textContent = `model: ${h.model.name}, ${h.model.layout} layout, ${h.model.decoder} decoding`;
    if (!h.flagging) $("flag").hidden = true;
  } catch (_) {
    $("model").textContent = "the server does not answer /healthz";
  }
}

function init() {
  const drop = $("drop");
  $("file").addEventListener("change", (e) => predictFile(e.target.files[0]).catch(() => {}));
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    predictFile(e.dataTransfer.files[0]).catch(() => {});
  });
  document.addEventListener("paste", (e) => {
    const item = [...(e.clipboardData?.items || [])].find((i) => i.type.startsWith("image/"));
    if (item) predictFile(item.getAsFile()).catch(() => {});
  });
  $("flag").addEventListener("submit", flag);
  loadModel();
  loadExamples();
}

// For scripts and tests: window.htr.predictDataUrl(url) resolves to the answer.
window.htr = { predictDataUrl, state };
init();
