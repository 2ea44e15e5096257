/* The area map: deck.gl (the bundle shipped by pydeck, loaded as deck.js) in a Streamlit component.
 *
 * Geometry files are fetched once and kept (per URL); each rerun only brings the codes in view, one
 * palette index per area, tooltip values and the view (see povmap/web/maplayer.py). Unchanged geometry keeps
 * the same array, so deck.gl does not tessellate again and only rewrites the colour attribute.
 *
 * A render that fails (a geometry file the server no longer has) shows a message over the map. A failed file is
 * not kept, so the next render fetches it again, and the render that succeeds takes the message away. Streamlit
 * sends a component identical arguments only once; the server's "revision" argument changes after a rerun that
 * wrote the web folder again (povmap/web/mapweb.py), so the rerun that heals the folder also brings that next render.
 */
"use strict";

// Streamlit's component protocol as streamlit-component-lib implements it, written out: three messages,
// so this component needs no bundler and no npm step at install.
const send = (type, data) => window.parent.postMessage({isStreamlitMessage: true, type, ...data}, "*");

const el = document.getElementById("map");
const msg = document.getElementById("msg");
const overlay = document.getElementById("lines");
const NONE = [0, 0, 0, 0];
const TIP_STYLE = {fontFamily: "Sarabun, 'Noto Sans Thai', sans-serif", fontSize: "14px", backgroundColor: "#ffffff",
                   color: "#222222", border: "1px solid #999", padding: "6px 8px", maxWidth: "320px"};
// What the user reads over a map that failed; the technical reason goes to data-error and the console.
const MESSAGES = {th: "แผนที่โหลดไม่สำเร็จ โปรดโหลดหน้านี้ใหม่", en: "The map could not be loaded. Reload the page to try again."};

const files = new Map();  // URL -> Promise<Map(code -> feature)>
function file(url) {
  if (!files.has(url)) {
    const p = fetch(url)
      .then((r) => { if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`); return r.json(); })
      .then((fc) => new Map(fc.features.map((f) => [f.properties.c, f])));
    p.catch(() => files.delete(url));  // let a later render try again
    files.set(url, p);
  }
  return files.get(url);
}

async function features(base, names, codes) {
  const maps = await Promise.all(names.map((n) => file(base + n)));
  const out = [], pos = new Map();
  codes.forEach((c, i) => {
    for (const m of maps) {
      const f = m.get(c);
      if (f) { pos.set(f, i); out.push(f); return; }
    }
  });
  return {list: out, pos};
}

const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));

let deckgl = null, linesKey = null, args = null, seq = 0, committed = 0, painted = 0;
let areas = {key: null, list: [], pos: new Map()}, context = {key: null, list: []};
let fillKey = null, fillVersion = 0, viewKey = null, selected = null;

function tooltip(info) {
  if (!info.object || !info.layer || info.layer.id !== "areas" || !args) return null;
  const p = info.object.properties, i = areas.pos.get(info.object);
  let html = `<b>${esc(p.n)}</b><br/><span style="opacity:.75">${esc(p.c)}</span>`;
  for (const [key, template, values] of args.tips) {
    html += "<br/>" + esc(template).replace(`{${key}}`, esc(values[i] ?? ""));
  }
  return {html, style: TIP_STYLE};
}

function onClick(info) {
  if (info.object && info.layer && info.layer.id === "areas") {
    send("streamlit:setComponentValue", {value: {code: info.object.properties.c, at: Date.now()}, dataType: "json"});
  }
}

// Two canvases: fills below (deck.gl: recoloured on every filter change, picking and hover), outlines above (a 2D
// canvas, drawOutlines: redrawn only when the view or the areas change).
function fillLayers() {
  const a = args, pos = areas.pos, out = [];
  if (context.list.length) {
    out.push(new deck.GeoJsonLayer({id: "context", data: context.list, stroked: false, filled: true, pickable: false,
      getFillColor: [238, 238, 238, 255]}));
  }
  out.push(new deck.GeoJsonLayer({
    id: "areas", data: areas.list, stroked: false, filled: true, pickable: true, autoHighlight: true,
    highlightColor: [30, 60, 160, 90],
    getFillColor: (f) => a.palette[a.fill[pos.get(f)]] || NONE,
    updateTriggers: {getFillColor: fillVersion},
  }));
  return out;
}

// Outlines on a 2D canvas above the fills, stroked by the browser (Skia) rather than deck.gl's PathLayer: in
// software WebGL (no usable GPU, a remote desktop) the PathLayer took ~3 s to stroke the 7,423 subdistricts and
// held the page that long after every new view; one 2D path of the same rings takes ~0.1 s. Written by hand because
// deck.gl has no 2D-canvas layer. Each ring is kept in Web Mercator world units once per geometry file, so a redraw
// is one affine map per point, taken from deck.gl's own viewport (never a projection formula of our own).
const outlineCanvas = document.createElement("canvas");
overlay.appendChild(outlineCanvas);
const worldRings = new WeakMap();  // feature -> [Float64Array of x, y Web Mercator world coordinates, one per ring]
const RAD = Math.PI / 180;
function ringsOf(f) {
  let rings = worldRings.get(f);
  if (!rings) {
    const g = f.geometry, polys = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
    rings = [];
    for (const poly of polys) {
      for (const ring of poly) {
        const w = new Float64Array(ring.length * 2);
        for (let i = 0; i < ring.length; i++) {  // Web Mercator; scale and offset come from deck.gl (affine)
          w[2 * i] = ring[i][0] * RAD;
          w[2 * i + 1] = Math.log(Math.tan(Math.PI / 4 + ring[i][1] * RAD / 2));
        }
        rings.push(w);
      }
    }
    worldRings.set(f, rings);
  }
  return rings;
}

function strokeAll(ctx, list, m, colour, width) {
  if (!list.length) return;
  ctx.beginPath();
  for (const f of list) {
    for (const w of ringsOf(f)) {
      ctx.moveTo(w[0] * m.sx + m.ox, w[1] * m.sy + m.oy);
      // GeoJSON rings end on their first point; closePath() would add nothing but cost Skia ~20x the stroke time
      for (let i = 2; i < w.length; i += 2) ctx.lineTo(w[i] * m.sx + m.ox, w[i + 1] * m.sy + m.oy);
    }
  }
  ctx.strokeStyle = colour;
  ctx.lineWidth = width;
  ctx.stroke();
}

// World units -> this viewport's pixels, from two points deck.gl projects (an unrotated, unpitched map view has the
// same scale and offset everywhere).
function affine(vp) {
  const a = [vp.longitude - 1, vp.latitude - 1], b = [vp.longitude + 1, vp.latitude + 1];
  const wa = [a[0] * RAD, Math.log(Math.tan(Math.PI / 4 + a[1] * RAD / 2))];
  const wb = [b[0] * RAD, Math.log(Math.tan(Math.PI / 4 + b[1] * RAD / 2))];
  const pa = vp.project(a), pb = vp.project(b);
  const sx = (pb[0] - pa[0]) / (wb[0] - wa[0]), sy = (pb[1] - pa[1]) / (wb[1] - wa[1]);
  return {sx, sy, ox: pa[0] - wa[0] * sx + vp.x, oy: pa[1] - wa[1] * sy + vp.y};
}

let outlineSig = "";
const renders = window.povmapRenders = [];
function drawOutlines() {
  if (!deckgl || !args) return;
  const dpr = window.devicePixelRatio || 1, w = el.clientWidth, h = el.clientHeight;
  const sig = `${labelSignature()}|${linesKey}|${w}x${h}@${dpr}`;
  if (sig === outlineSig) return;
  outlineSig = sig;
  const cw = Math.round(w * dpr), ch = Math.round(h * dpr);
  if (outlineCanvas.width !== cw || outlineCanvas.height !== ch) {  // a resize reallocates: only when it changed
    outlineCanvas.width = cw;
    outlineCanvas.height = ch;
    outlineCanvas.style.width = `${w}px`;
    outlineCanvas.style.height = `${h}px`;
  }
  const ctx = outlineCanvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);  // miter joins (the default): round ones cost an arc per vertex, ~20x the time
  for (const vp of deckgl.getViewports()) {
    const m = affine(vp);
    ctx.save();
    ctx.beginPath();
    ctx.rect(vp.x, vp.y, vp.width, vp.height);
    ctx.clip();
    strokeAll(ctx, context.list, m, "rgba(150, 150, 150, 1)", 0.6);
    strokeAll(ctx, areas.list, m, "rgba(110, 110, 110, 0.78)", args.lineWidth);
    if (selected) strokeAll(ctx, [selected], m, "rgba(20, 20, 20, 1)", 3);
    ctx.restore();
  }
}

function fail(error, lang) {
  msg.textContent = MESSAGES[lang] || MESSAGES.en;
  msg.style.display = "flex";
  el.dataset.error = String(error && error.message ? error.message : error);
  console.error("povmap map:", error);
}

function recovered() {
  if (el.dataset.error === undefined) return;
  msg.style.display = "none";
  msg.textContent = "";
  delete el.dataset.error;
}

// Performance marks (povmap:render, povmap:geometry, povmap:painted): the bench reads where a first paint's time goes.
const mark = (name) => { try { performance.mark(`povmap:${name}`); } catch (e) { /* no User Timing: no marks */ } };

async function render(a) {
  mark("render");
  const mine = ++seq;
  try {
    await draw(a, mine);
  } catch (e) {
    if (mine === seq) fail(e, a.lang);  // a newer rerun supersedes this one: only its own outcome is shown
  }
}

// The server fits the view to the frame size it assumes; a narrower frame (a projector beside a legend, a phone)
// zooms out by the same formula (maplayer.view_state) so nothing is clipped. It never zooms in.
function fitted(a) {
  const w = el.clientWidth;
  if (!a.fit || !w) return a.view;
  const z = Math.min(Math.log2(360 * w / (512 * a.fit[0])), Math.log2(360 * a.height / (512 * a.fit[1]))) - 0.15;
  return {...a.view, zoom: Math.max(Math.min(a.view.zoom, Math.round(z * 100) / 100), a.view.minZoom)};
}

// Panels (maplayer.panel_bounds): scattered provinces each get a panel of the frame, fitted to their own box. The
// grid (columns x rows) is the one whose smallest panel zoom is largest, so the smallest cluster stays readable.
function zoomFor(b, w, h) {
  const latC = (b[1] + b[3]) / 2;
  const lon = Math.max(b[2] - b[0], 0.01), lat = Math.max(b[3] - b[1], 0.01) / Math.max(Math.cos(latC * Math.PI / 180), 0.2);
  return Math.min(Math.log2(360 * w / (512 * lon)), Math.log2(360 * h / (512 * lat))) - 0.2;
}

function panelLayout(a) {
  const w = el.clientWidth || 700, h = a.height, n = a.panels.length;
  let best = null;
  for (let cols = 1; cols <= n; cols++) {
    const rows = Math.ceil(n / cols), cw = w / cols, ch = h / rows;
    const z = Math.min(...a.panels.map((b) => zoomFor(b, cw, ch)));
    if (!best || z > best.z) best = {cols, rows, z};
  }
  return a.panels.map((b, i) => {
    const col = i % best.cols, row = Math.floor(i / best.cols);
    const box = {x: `${(100 * col) / best.cols}%`, y: `${(100 * row) / best.rows}%`,
                 width: `${100 / best.cols}%`, height: `${100 / best.rows}%`};
    const z = zoomFor(b, w / best.cols, h / best.rows);
    const state = {longitude: (b[0] + b[2]) / 2, latitude: (b[1] + b[3]) / 2, zoom: Math.max(Math.min(z, 13), 4),
                   minZoom: 4, maxZoom: 14};
    return {id: `panel${i}`, box, state};
  });
}

let states = null;  // the view state of each panel, as the user pans and zooms them
function viewsOf(a) {
  const frame = document.getElementById("frames");
  frame.innerHTML = "";
  if (!a.panels) {
    states = null;
    el.dataset.panels = "1";
    return {views: new deck.MapView({repeat: false}), viewState: fitted(a)};
  }
  const panels = panelLayout(a);
  states = Object.fromEntries(panels.map((p) => [p.id, p.state]));
  panels.forEach((p, i) => {  // a thin frame around each panel and the provinces it shows, read as separate maps
    const d = document.createElement("div");
    Object.assign(d.style, {position: "absolute", left: p.box.x, top: p.box.y, width: p.box.width, height: p.box.height,
                            boxSizing: "border-box", border: "1px solid #c8c8c8", pointerEvents: "none"});
    const title = (a.panelTitles || [])[i];
    if (title) {
      const t = document.createElement("div");
      t.className = "panel-title";
      t.textContent = title;
      d.appendChild(t);
    }
    frame.appendChild(d);
  });
  el.dataset.panels = String(panels.length);
  return {views: panels.map((p) => new deck.MapView({id: p.id, ...p.box, repeat: false, controller: true})),
          viewState: {...states}};
}

// Area names over the map, as HTML (the browser shapes Thai): most important first, each kept only if its box
// meets no label placed before it and lies inside its panel. Laid out again after each frame that moved the view.
let labelsDirty = true, labelSig = "";
function labelSignature() {
  return deckgl.getViewports().map((v) => [v.x, v.y, v.width, v.height, v.zoom.toFixed(3), v.longitude.toFixed(5),
                                          v.latitude.toFixed(5)].join(",")).join(";");
}
function placeLabels() {
  const box = document.getElementById("labels");
  box.innerHTML = "";
  if (!args || !args.labels || !deckgl) { el.dataset.labels = "0"; return; }
  const viewports = deckgl.getViewports();
  const taken = [];
  for (const [name, lon, lat] of args.labels) {
    const vp = viewports.find((v) => {
      const [x, y] = v.project([lon, lat]);
      return x >= 0 && y >= 0 && x <= v.width && y <= v.height;
    });
    if (!vp) continue;
    const [x, y] = vp.project([lon, lat]);
    const d = document.createElement("div");
    d.className = "label";
    d.style.fontSize = `${args.labelPx || 13}px`;
    d.textContent = name;
    box.appendChild(d);
    const w = d.offsetWidth, h = d.offsetHeight, cx = vp.x + x, cy = vp.y + y;
    const r = {l: cx - w / 2, t: cy - h / 2, r: cx + w / 2, b: cy + h / 2};
    const outside = r.l < vp.x || r.t < vp.y || r.r > vp.x + vp.width || r.b > vp.y + vp.height;
    if (outside || taken.some((o) => !(r.r < o.l || r.l > o.r || r.b < o.t || r.t > o.b))) { d.remove(); continue; }
    taken.push(r);
    d.style.left = `${r.l}px`;
    d.style.top = `${r.t}px`;
  }
  el.dataset.labels = String(taken.length);
}

// Pan and zoom. In software WebGL a redraw of the 7,423 subdistrict fills takes ~0.1 s, so a drag that redrew every
// move ran at 6-8 frames a second. While a drag lasts the drawn frame is moved instead (a CSS transform of the
// canvases and names, as a tiled map moves its tiles) and the map is drawn once for where the drag ends. The
// view state is controlled here: deck.gl draws only the state given to it. Panels (several views) draw as they move.
function moving() {
  return [el.querySelector(":scope > canvas"), outlineCanvas, document.getElementById("labels")].filter(Boolean);
}

function showMoved(next) {
  const r = deckgl.getViewports()[0];
  if (!r) return;
  const p = new deck.WebMercatorViewport({...next, width: r.width, height: r.height});
  const k = 2 ** (p.zoom - r.zoom), [cx, cy] = p.project(r.unproject([r.width / 2, r.height / 2]));
  const css = `matrix(${k}, 0, 0, ${k}, ${cx - k * r.width / 2}, ${cy - k * r.height / 2})`;
  for (const node of moving()) { node.style.transformOrigin = "0 0"; node.style.transform = css; }
}

function commit(viewState) {
  for (const node of moving()) node.style.transform = "";
  labelsDirty = true;
  deckgl.setProps({viewState});
}

function onView({viewId, viewState, interactionState}) {
  labelsDirty = true;
  if (states && viewId in states) {
    states = {...states, [viewId]: viewState};
    commit({...states});
  } else if (interactionState && interactionState.isDragging) {
    showMoved(viewState);
  } else {
    commit(viewState);
  }
  return viewState;
}

// Presentation mode (fitScreen): the map ends above the bottom of the window, so a projector shows all of it.
function screenHeight(a) {
  if (!a.fitScreen) return a.height;
  try {
    const top = window.frameElement.getBoundingClientRect().top;
    return Math.max(320, Math.min(a.height, Math.floor(window.parent.innerHeight - top - 16)));
  } catch (e) {  // another origin: the height asked for
    return a.height;
  }
}

async function draw(a, mine) {
  a = {...a, height: screenHeight(a)};
  el.style.height = `${a.height}px`;
  send("streamlit:setFrameHeight", {height: a.height});
  const codes = a.codes ? a.codes.split(",") : [];
  const aKey = `${a.geo.join("|")}#${a.codes}`;
  const cKey = a.context ? `${a.context.geo.join("|")}#${a.context.codes}` : "";
  const nextAreas = aKey === areas.key ? areas : {key: aKey, ...(await features(a.geoBase, a.geo, codes))};
  const nextContext = cKey === context.key ? context
    : {key: cKey, list: a.context ? (await features(a.geoBase, a.context.geo, a.context.codes.split(","))).list : []};
  if (mine !== seq) return;  // a newer rerun arrived while the files loaded
  mark("geometry");
  if (!deckgl) throw deckError || new Error("the map could not be made");
  const fKey = JSON.stringify([a.palette, a.fill]);
  const recoloured = fKey !== fillKey || nextAreas !== areas;
  if (recoloured) fillVersion += 1;
  args = a; areas = nextAreas; context = nextContext; fillKey = fKey;
  selected = a.selected ? areas.list.find((f) => f.properties.c === a.selected) || null : null;
  el.dataset.features = String(areas.list.length);
  el.dataset.fill = String(fillVersion);
  const vKey = JSON.stringify([a.view, a.panels]);
  const lKey = `${areas.key}|${context.key}|${a.selected}|${a.lineWidth}`;
  if (vKey !== viewKey) {
    // A new view (level or scope, or the first) re-centres the map; a filter change keeps the user's pan and zoom.
    const {views, viewState} = viewsOf(a);
    for (const node of moving()) node.style.transform = "";
    deckgl.setProps({views, layers: fillLayers(), viewState});
  } else {
    deckgl.setProps({layers: fillLayers()});
    if (!recoloured && lKey === linesKey) painted = mine;  // nothing to draw: what is on screen is this rerun
  }
  linesKey = lKey;
  viewKey = vKey;
  labelsDirty = true;
  deckgl.redraw(true);  // lay the labels out for this rerun's names and view
  committed = mine;
  recovered();
  if (painted === mine) el.dataset.painted = String(painted);
}

// The map is made before the first render message: deck.gl sets up WebGL and compiles the fill layer's shaders
// (slow in software WebGL) while Streamlit sends the arguments and the geometry loads. If it cannot be made (deck.gl
// missing, no WebGL), the first render says so over the map (draw throws, render shows the message).
let deckError = null;
try {
  deckgl = new deck.Deck({
    parent: el, viewState: {longitude: 101, latitude: 13, zoom: 4.6, minZoom: 4, maxZoom: 14}, controller: true,
    views: new deck.MapView({repeat: false}),
    layers: [new deck.GeoJsonLayer({id: "areas", data: [], stroked: false, filled: true, pickable: true})],
    getTooltip: tooltip, onClick, onViewStateChange: onView,
    getCursor: ({isDragging, isHovering}) => (isDragging ? "grabbing" : isHovering ? "pointer" : "grab"),
    // data-painted: the last rerun whose colours are on screen (the browser tests and the bench wait on it)
    onAfterRender: () => {
      renders.push(performance.now());  // when each frame was drawn (bench/bench_firstpaint.py's pan frame time)
      if (renders.length > 1000) renders.splice(0, 500);
      drawOutlines();
      const sig = labelSignature();  // the frame was resized, or the view moved: the labels follow
      if (labelsDirty || sig !== labelSig) { labelsDirty = false; labelSig = sig; placeLabels(); }
      if (painted !== committed) { painted = committed; el.dataset.painted = String(painted); mark("painted"); }
    },
  });
} catch (e) {
  deckError = e;
}

window.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "streamlit:render") return;
  const a = event.data.args && event.data.args.map;
  if (!a) return;
  render(a);
});
send("streamlit:componentReady", {apiVersion: 1});
