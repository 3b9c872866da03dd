// blurgen view: the page. Plain JavaScript, no dependencies; talks to the JSON API in server.py.
"use strict";

const $ = (id) => document.getElementById(id);
const view = { kernels: [], selected: null, generation: 0, maxUpload: 0, sampling: null };

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}
$("error").addEventListener("click", () => { $("error").hidden = true; });

async function api(path, options = {}) {
  const response = await fetch(path, options);
  const data = await response.json();
  if (!response.ok) throw new Error(data.error || `${response.status} ${response.statusText}`);
  return data;
}

const format = (value) => typeof value === "number" && !Number.isInteger(value) ? value.toPrecision(4) : String(value);
const fraction = (value) => Number.isInteger(1 / value) && value < 1 ? `1/${1 / value}` : format(value);

function showState(state) {
  $("source").textContent = state.source === "sampled"
    ? `${state.count} kernels sampled live (${state.info.preset}, seed ${state.info.seed})`
    : `${state.count} kernels from ${state.source}`;
  const fp = state.stats.footprint_px || {};
  $("summary").textContent = `${state.size}×${state.size} px · footprint median ${format(fp.p50 ?? 0)} px, 95% ${format(fp.p95 ?? 0)} px · rescaled ${state.stats.rescaled}`;
  view.maxUpload = state.max_upload;
  $("image-name").textContent = `preview image: ${state.image}`;
  const filter = $("exposure-filter");
  const chosen = filter.value;
  filter.replaceChildren(new Option("any", ""), ...state.stats.exposures.map((e) => new Option(fraction(e), String(e))));
  filter.value = state.stats.exposures.map(String).includes(chosen) ? chosen : "";
}

function fillControls(state) {
  $("preset").replaceChildren(...state.presets.map((name) => new Option(name, name)));
  $("camera").replaceChildren(...state.cameras.map((name) => new Option(name, name)));
  const spec = state.info.spec || {};
  const params = { ...state.params, preset: state.info.preset || state.params.preset, max_len: spec.max_len, iters: spec.iters,
    size: state.size, seed: state.info.seed ?? state.params.seed, n: state.count };
  for (const name of ["preset", "expl", "max_len", "iters", "size", "exposure", "seed", "n"]) {
    if (params[name] !== undefined && params[name] !== null) $(name).value = params[name];
  }
  if (state.info.exposures && state.info.exposures.length === 4) $("exposure").value = "all";
}

function visibleKernels() {
  const key = $("sort").value;
  const low = parseFloat($("fp-min").value), high = parseFloat($("fp-max").value);
  const exposure = $("exposure-filter").value;
  const shown = view.kernels.filter((k) => (isNaN(low) || k.footprint >= low) && (isNaN(high) || k.footprint <= high)
    && (exposure === "" || String(k.exposure) === exposure));
  shown.sort((a, b) => (a[key] - b[key]) || (a.i - b.i));
  if ($("descending").checked) shown.reverse();
  return shown;
}

function renderGallery() {
  const gallery = $("gallery");
  const shown = visibleKernels();
  if (!shown.length) {
    gallery.replaceChildren(Object.assign(document.createElement("p"), { className: "hint", textContent: "No kernel matches the filter." }));
    return;
  }
  gallery.replaceChildren(...shown.map((k) => {
    const figure = document.createElement("figure");
    figure.dataset.i = k.i;
    figure.title = `kernel ${k.index}, exposure ${format(k.exposure)}: footprint ${format(k.footprint)} px, length ${format(k.path_length)} px`;
    if (k.i === view.selected) figure.classList.add("selected");
    const img = document.createElement("img");
    img.loading = "lazy";
    img.alt = `kernel ${k.index}`;
    img.src = `/api/kernel/${k.i}.png?g=${view.generation}`;
    const caption = document.createElement("figcaption");
    caption.textContent = `#${k.index} · ${format(k.footprint)}px`;
    figure.append(img, caption);
    figure.addEventListener("click", () => select(k.i));
    return figure;
  }));
}

async function loadKernels() {
  view.kernels = await api("/api/kernels");
  view.generation += 1;
  renderGallery();
}

async function select(i) {
  view.selected = i;
  for (const figure of $("gallery").children) figure.classList.toggle("selected", Number(figure.dataset.i) === i);
  try {
    const detail = await api(`/api/detail/${i}`);
    if (view.selected !== i) return;
    const m = detail.meta;
    $("detail-hint").hidden = true;
    $("detail-body").hidden = false;
    const family = m.family && m.family !== "markov" ? ` · ${m.family}` : "";
    $("detail-title").textContent = `Kernel ${m.index}${family} · exposure ${fraction(m.exposure)}`;
    // Zoom on the trajectory: a square around it with a 3-px margin (at least 15 px), in kernel pixels.
    // Still and defocus kernels have no path: zoom on the centre.
    const centre = (detail.size - 1) / 2;
    const path = detail.trajectory.length ? detail.trajectory : [[centre, centre]];
    const xs = path.map((p) => p[0]), ys = path.map((p) => p[1]);
    const side = Math.min(detail.size, Math.max(15, Math.max(...xs) - Math.min(...xs) + 7, Math.max(...ys) - Math.min(...ys) + 7));
    const cx = (Math.max(...xs) + Math.min(...xs)) / 2, cy = (Math.max(...ys) + Math.min(...ys)) / 2;
    $("psf-view").setAttribute("viewBox", `${cx - side / 2} ${cy - side / 2} ${side} ${side}`);
    const psf = $("psf");
    psf.setAttribute("href", detail.psf);
    for (const [name, value] of [["x", -0.5], ["y", -0.5], ["width", detail.size], ["height", detail.size]]) psf.setAttribute(name, value);
    $("psf-scale").textContent = `showing ${Math.round(side)} of ${detail.size} px; the green dot is where the exposure starts`;
    $("path").setAttribute("points", detail.trajectory.map(([x, y]) => `${x},${y}`).join(" "));
    $("start").setAttribute("cx", xs[0]);
    $("start").setAttribute("cy", ys[0]);
    $("trajectory").style.display = $("show-path").checked ? "" : "none";
    $("exposures").replaceChildren(...detail.exposures.map((e) => {
      const figure = document.createElement("figure");
      const img = Object.assign(document.createElement("img"), { src: e.png, alt: `exposure ${e.fraction}` });
      const caption = Object.assign(document.createElement("figcaption"), { textContent: `T = ${fraction(e.fraction)}` });
      figure.append(img, caption);
      return figure;
    }));
    $("meta").replaceChildren(...Object.entries(m).map(([key, value]) => {
      const row = document.createElement("tr");
      row.append(Object.assign(document.createElement("td"), { textContent: key }), Object.assign(document.createElement("td"), { textContent: format(value) }));
      return row;
    }));
    await updatePreview();
  } catch (error) {
    showError(error.message);
  }
}

async function updatePreview() {
  if (view.selected === null) return;
  const i = view.selected;
  try {
    const motion = $("motion").value;
    const result = await api(`/api/preview/${i}?camera=${encodeURIComponent($("camera").value)}&motion=${encodeURIComponent(motion)}`);
    if (view.selected !== i) return;
    $("sharp").src = result.sharp;
    $("blurred").src = result.blurred;
    $("blur-map-figure").hidden = !result.blur_map;
    if (result.blur_map) {
      $("blur-map").src = result.blur_map;
      $("blur-map-caption").textContent = `blur map: path ${format(result.blur_map_px.min)}–${format(result.blur_map_px.max)} px`;
    }
  } catch (error) {
    showError(error.message);
  }
}

function currentParams() {
  const form = new FormData($("params"));
  return Object.fromEntries(form.entries());
}

async function resample() {
  const started = performance.now();
  try {
    const state = await api("/api/sample", { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(currentParams()) });
    showState(state);
    if (view.refill) {
      fillControls(state);
      view.refill = false;
    }
    await loadKernels();
    $("timing").textContent = `re-sampled ${state.count} kernels in ${Math.round(state.seconds * 1000)} ms (page ${Math.round(performance.now() - started)} ms)`;
    const keep = view.selected !== null && view.selected < state.count ? view.selected : 0;
    await select(keep);
  } catch (error) {
    showError(error.message);
  }
}

function scheduleResample() {
  clearTimeout(view.sampling);
  view.sampling = setTimeout(resample, 120);
}

async function upload(path, file) {
  if (file.size > view.maxUpload) {
    throw new Error(`${file.name} is ${(file.size / 2 ** 20).toFixed(1)} MiB; the viewer takes at most ${view.maxUpload / 2 ** 20} MiB`);
  }
  return api(path, { method: "POST", headers: { "X-File-Name": file.name }, body: file });
}

$("params").addEventListener("input", (event) => {
  if (event.target.id === "preset") {  // a new preset brings its own values: let the server fill them in
    for (const id of ["expl", "max_len", "iters"]) $(id).value = "";
    view.refill = true;
  }
  scheduleResample();
});
$("params").addEventListener("submit", (event) => { event.preventDefault(); resample(); });
$("reseed").addEventListener("click", () => { $("seed").value = Math.floor(Math.random() * 1e6); resample(); });
for (const id of ["sort", "descending", "fp-min", "fp-max", "exposure-filter"]) $(id).addEventListener("input", renderGallery);
$("zoom").addEventListener("input", () => $("gallery").style.setProperty("--cell", `${$("zoom").value}px`));
$("show-path").addEventListener("change", () => { $("trajectory").style.display = $("show-path").checked ? "" : "none"; });
$("camera").addEventListener("change", updatePreview);
$("motion").addEventListener("change", updatePreview);
$("image-file").addEventListener("change", async () => {
  const file = $("image-file").files[0];
  if (!file) return;
  try {
    showState(await upload("/api/image", file));
    await updatePreview();
  } catch (error) {
    showError(error.message);
  }
  $("image-file").value = "";
});
$("bank-file").addEventListener("change", async () => {
  const file = $("bank-file").files[0];
  if (!file) return;
  try {
    const state = await upload("/api/bank", file);
    showState(state);
    fillControls(state);
    view.selected = null;
    await loadKernels();
    await select(0);
  } catch (error) {
    showError(error.message);
  }
  $("bank-file").value = "";
});

(async () => {
  try {
    const state = await api("/api/state");
    fillControls(state);
    showState(state);
    await loadKernels();
    await select(0);
  } catch (error) {
    showError(error.message);
  }
})();
