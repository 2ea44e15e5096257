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

let deckgl = null, lines = null, linesKey = null, args = null, seq = 0, committed = 0, painted = 0;
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

// Two canvases: fills below (recoloured on every filter change, picking and hover), outlines above (redrawn
// only when the view or the areas change). Without a GPU a full redraw of the 7,423 subdistrict outlines
// takes ~2.5 s in software WebGL and the fills alone ~0.1 s, so a filter change must not redraw outlines.
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

function lineLayers() {
  const out = [];
  if (context.list.length) {
    out.push(new deck.GeoJsonLayer({id: "context-lines", data: context.list, stroked: true, filled: false, pickable: false,
      getLineColor: [150, 150, 150, 255], lineWidthMinPixels: 0.6}));
  }
  out.push(new deck.GeoJsonLayer({id: "area-lines", data: areas.list, stroked: true, filled: false, pickable: false,
    getLineColor: [110, 110, 110, 200], lineWidthMinPixels: args.lineWidth}));
  if (selected) {
    out.push(new deck.GeoJsonLayer({id: "selected", data: [selected], stroked: true, filled: false, pickable: false,
      getLineColor: [20, 20, 20, 255], lineWidthMinPixels: 3}));
  }
  return out;
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

async function render(a) {
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

function onView({viewId, viewState}) {
  labelsDirty = true;
  if (states && viewId in states) {
    states = {...states, [viewId]: viewState};
    lines.setProps({viewState: {...states}});
  } else {
    lines.setProps({viewState});
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
  const fKey = JSON.stringify([a.palette, a.fill]);
  const recoloured = fKey !== fillKey || nextAreas !== areas;
  if (recoloured) fillVersion += 1;
  args = a; areas = nextAreas; context = nextContext; fillKey = fKey;
  selected = a.selected ? areas.list.find((f) => f.properties.c === a.selected) || null : null;
  el.dataset.features = String(areas.list.length);
  el.dataset.fill = String(fillVersion);
  const vKey = JSON.stringify([a.view, a.panels]);
  const lKey = `${areas.key}|${context.key}|${a.selected}|${a.lineWidth}`;
  if (!deckgl) {
    const {views, viewState} = viewsOf(a);
    lines = new deck.Deck({parent: overlay, viewState, controller: false, views, layers: lineLayers()});
    deckgl = new deck.Deck({
      parent: el, initialViewState: viewState, controller: true, views,
      layers: fillLayers(), getTooltip: tooltip, onClick,
      onViewStateChange: onView,
      getCursor: ({isDragging, isHovering}) => (isDragging ? "grabbing" : isHovering ? "pointer" : "grab"),
      // data-painted: the last rerun whose colours are on screen (the browser tests and the bench wait on it)
      onAfterRender: () => {
        const sig = labelSignature();  // the frame was resized, or the view moved: the labels follow
        if (labelsDirty || sig !== labelSig) { labelsDirty = false; labelSig = sig; placeLabels(); }
        if (painted !== committed) { painted = committed; el.dataset.painted = String(painted); }
      },
    });
  } else if (vKey !== viewKey) {
    // A new view (level or scope) re-centres the map; a filter change keeps the user's pan and zoom.
    const {views, viewState} = viewsOf(a);
    deckgl.setProps({views, layers: fillLayers(), initialViewState: viewState});
    lines.setProps({views, layers: lineLayers(), viewState});
  } else {
    deckgl.setProps({layers: fillLayers()});
    if (lKey !== linesKey) lines.setProps({layers: lineLayers()});
    if (!recoloured && lKey === linesKey) painted = mine;  // nothing to draw: what is on screen is this rerun
  }
  linesKey = lKey;
  viewKey = vKey;
  labelsDirty = true;
  if (deckgl) deckgl.redraw(true);  // lay the labels out for this rerun's names and view
  committed = mine;
  recovered();
  if (painted === mine) el.dataset.painted = String(painted);
}

window.addEventListener("message", (event) => {
  if (!event.data || event.data.type !== "streamlit:render") return;
  const a = event.data.args && event.data.args.map;
  if (!a) return;
  render(a);
});
send("streamlit:componentReady", {apiVersion: 1});
