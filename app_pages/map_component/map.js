/* The area map: deck.gl (the modules it uses, bundled at install as deck.js: web/deck-entry.js) in a Streamlit
 * component.
 *
 * Geometry files (typed arrays with their triangles: povmap/web/geometry.py) are fetched once and kept (per URL);
 * each rerun only brings the codes in view, one palette index per area, tooltip values and the view (see
 * povmap/web/maplayer.py). Unchanged geometry keeps the same data object, so deck.gl only rewrites the colour
 * attribute.
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

// Geometry files (povmap/web/geometry.py): typed arrays viewed where they lie in the file (little-endian, as every
// browser's typed arrays are), with where each area's share of each array begins. Nothing to parse or cut into
// triangles: the server did that once for everyone (issue 16).
function unpack(buf, url) {
  const view = new DataView(buf);
  if (buf.byteLength < 8 || view.getUint32(0) !== 0x50564731) throw new Error(`${url}: not a geometry file`);  // "PVG1"
  const size = view.getUint32(4, true);
  const head = JSON.parse(new TextDecoder().decode(new Uint8Array(buf, 8, size)));
  const n = head.codes.length;
  let at = 8 + size;
  const take = (Type, count) => { const out = new Type(buf, at, count); at += count * Type.BYTES_PER_ELEMENT; return out; };
  const starts = (sizes) => {
    const out = new Uint32Array(sizes.length + 1);
    for (let i = 0; i < sizes.length; i++) out[i + 1] = out[i] + sizes[i];
    return out;
  };
  const positions = take(Float32Array, 2 * head.vertices), ringSizes = take(Uint32Array, head.rings);
  const areaVertices = take(Uint32Array, n), areaRings = take(Uint32Array, n), areaCorners = take(Uint32Array, n);
  const corners = take(head.index === "u32" ? Uint32Array : Uint16Array, head.triangles);
  return {codes: head.codes, names: head.names, index: new Map(head.codes.map((c, i) => [c, i])), positions,
          ringSizes, corners, vStart: starts(areaVertices), rStart: starts(areaRings), cStart: starts(areaCorners)};
}

// What index.html received and began before this script loaded: render messages, and geometry fetches under way.
const early = window.povmapEarly || {ready: false, renders: [], geometry: new Map()};

const files = new Map();  // URL -> Promise<unpacked file>
function file(url) {
  if (!files.has(url)) {
    const started = early.geometry.get(url);  // a response is read once: a retry fetches again
    early.geometry.delete(url);
    const p = (started || fetch(url))
      .then((r) => { if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`); return r.arrayBuffer(); })
      .then((buf) => unpack(buf, url));
    p.catch(() => files.delete(url));  // let a later render try again
    files.set(url, p);
  }
  return files.get(url);
}

const NO_AREAS = {key: null, n: 0, codes: [], names: [], of: new Uint32Array(0), positions: new Float32Array(0),
                  ringStarts: new Uint32Array(1), areaRings: new Uint32Array(1), world: null, data: null};

// The areas of `codes` found in the files, in that order, as one layer's binary data (deck.gl's SolidPolygonLayer:
// vertex ranges per area and ready triangles). `of[k]`: area k's place in `codes`, where its colour and tooltip
// values are. A code in no file (an area without a polygon) is left out.
async function shapes(base, names, codes) {
  const all = await Promise.all(names.map((n) => file(base + n)));
  const picks = [];
  let nv = 0, nr = 0, nc = 0;
  codes.forEach((code, i) => {
    for (const g of all) {
      const j = g.index.get(code);
      if (j === undefined) continue;
      picks.push([g, j, i]);
      nv += g.vStart[j + 1] - g.vStart[j];
      nr += g.rStart[j + 1] - g.rStart[j];
      nc += g.cStart[j + 1] - g.cStart[j];
      return;
    }
  });
  const n = picks.length, positions = new Float32Array(2 * nv), indices = new Uint32Array(nc);
  const starts = new Uint32Array(n + 1), ringStarts = new Uint32Array(nr + 1), areaRings = new Uint32Array(n + 1);
  const of = new Uint32Array(n), outCodes = new Array(n), outNames = new Array(n);
  let v = 0, r = 0, c = 0;
  picks.forEach(([g, j, i], k) => {
    const v0 = g.vStart[j], v1 = g.vStart[j + 1];
    positions.set(g.positions.subarray(2 * v0, 2 * v1), 2 * v);
    for (let x = g.cStart[j]; x < g.cStart[j + 1]; x++) indices[c++] = g.corners[x] + v;
    let ring = v;
    for (let x = g.rStart[j]; x < g.rStart[j + 1]; x++) { ringStarts[r++] = ring; ring += g.ringSizes[x]; }
    v += v1 - v0;
    starts[k + 1] = v;
    areaRings[k + 1] = r;
    of[k] = i;
    outCodes[k] = g.codes[j];
    outNames[k] = g.names[j];
  });
  ringStarts[nr] = nv;
  const data = {length: n, startIndices: starts, attributes: {getPolygon: {value: positions, size: 2}, indices}};
  return {n, codes: outCodes, names: outNames, of, positions, ringStarts, areaRings, world: null, data};
}

const esc = (s) => String(s).replace(/[&<>"']/g, (ch) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[ch]));

let deckgl = null, linesKey = null, args = null, seq = 0, committed = 0, painted = 0;
let areas = NO_AREAS, context = NO_AREAS;
let fillKey = null, fillVersion = 0, viewKey = null, selected = -1;  // selected: its place in areas

function tooltip(info) {
  if (!info.picked || !info.layer || info.layer.id !== "areas" || !args || info.index >= areas.n) return null;
  const k = info.index, i = areas.of[k];
  let html = `<b>${esc(areas.names[k])}</b><br/><span style="opacity:.75">${esc(areas.codes[k])}</span>`;
  for (const [key, template, values] of args.tips) {
    html += "<br/>" + esc(template).replace(`{${key}}`, esc(values[i] ?? ""));
  }
  return {html, style: TIP_STYLE};
}

function onClick(info) {
  if (info.picked && info.layer && info.layer.id === "areas" && info.index < areas.n) {
    send("streamlit:setComponentValue", {value: {code: areas.codes[info.index], at: Date.now()}, dataType: "json"});
  }
}

// Two canvases: fills below (deck.gl: recoloured on every filter change, picking and hover), outlines above (a 2D
// canvas, drawOutlines: redrawn only when the view or the areas change).
// The areas' layer: binary data with the server's triangles (_normalize: false: deck.gl neither normalises nor
// cuts them again). One object per area, all its polygons in one vertex range: hover lights the whole area.
const BINARY = {_normalize: false, positionFormat: "XY", filled: true, extruded: false};

// The fills' vertex shader: what deck.gl's polygon shader does for a flat map (no extrusion, no lighting, longitude
// and latitude in a Web Mercator view: MapView), through deck.gl's own projection functions. Written here because
// deck.gl's shader also carries the lighting of extruded polygons and every projection mode (globe, offsets,
// Cartesian), chosen per draw by uniforms, and software WebGL (no usable GPU, a remote desktop) runs both sides of
// every branch for every vertex: the nationwide subdistrict fills (~50,000 vertices) took ~0.15 s of the first paint,
// ~0.08 s with this one (issue 16, ad hoc A/B). The mode is deck.gl's: Web Mercator, or from zoom 12 positions near
// the view's centre taken relative to it (deck.gl's "auto offset", for precision), as its project_position does.
// An extruded layer keeps deck.gl's shader (its sides and lighting).
const FILL_VS = `#version 300 es
#define SHADER_NAME povmap-area-fill-vertex-shader
in vec3 vertexPositions;
in vec3 vertexPositions64Low;
in vec4 fillColors;
in vec3 pickingColors;
out vec4 vColor;
void main(void) {
  vec3 pos = vertexPositions;
  geometry.worldPosition = pos;
  geometry.pickingColor = pickingColors;
  vec2 mercator = project_mercator_(pos.xy);
  bool offsetMode = project.projectionMode == PROJECTION_MODE_WEB_MERCATOR_AUTO_OFFSET;
  vec4 position = vec4(offsetMode ? mercator - project.commonOrigin.xy : mercator, 0.0, 1.0);
  if (offsetMode && abs(pos.y - project.coordinateOrigin.y) <= 0.25) {
    position = project_offset_(vec4(pos - project.coordinateOrigin, 1.0)) + project_offset_(vec4(vertexPositions64Low, 0.0));
  }
  geometry.position = position;
  gl_Position = project_common_position_to_clipspace(position);
  DECKGL_FILTER_GL_POSITION(gl_Position, geometry);
  vColor = vec4(fillColors.rgb, fillColors.a * layer.opacity);
  DECKGL_FILTER_COLOR(vColor, geometry);
}
`;
class AreaFillLayer extends deck.SolidPolygonLayer {
  getShaders(type) {  // "top": the only surface of a flat layer (no sides without extrusion)
    const shaders = super.getShaders(type);
    return type === "top" && !this.props.extruded ? {...shaders, vs: FILL_VS} : shaders;
  }
}
AreaFillLayer.layerName = "AreaFillLayer";

function fillLayers() {
  const a = args, of = areas.of, out = [];
  if (context.n) {
    out.push(new AreaFillLayer({id: "context", data: context.data, ...BINARY, pickable: false,
      getFillColor: [238, 238, 238, 255]}));
  }
  out.push(areasLayer(areas.data || [], (_, {index}) => a.palette[a.fill[of[index]]] || NONE, fillVersion));
  return out;
}

function areasLayer(data, getFillColor, version) {
  return new AreaFillLayer({id: "areas", data, ...BINARY, pickable: true, autoHighlight: true,
    highlightColor: [30, 60, 160, 90], getFillColor, updateTriggers: {getFillColor: version}});
}

// Outlines on a 2D canvas above the fills, stroked by the browser (Skia) rather than deck.gl's PathLayer: in
// software WebGL (no usable GPU, a remote desktop) the PathLayer took ~3 s to stroke the 7,423 subdistricts and
// held the page that long after every new view; one 2D path of the same rings takes ~0.1 s. Written by hand because
// deck.gl has no 2D-canvas layer. Each vertex is kept in Web Mercator world units once per set of areas, so a redraw
// is one affine map per point, taken from deck.gl's own viewport (never a projection formula of our own).
const outlineCanvas = document.createElement("canvas");
overlay.appendChild(outlineCanvas);
const RAD = Math.PI / 180;
function worldOf(set) {  // Web Mercator x, y of every vertex, once per set of areas (the scale comes from deck.gl)
  if (!set.world) {
    const p = set.positions, w = new Float64Array(p.length);
    for (let i = 0; i < p.length; i += 2) {
      w[i] = p[i] * RAD;
      w[i + 1] = Math.log(Math.tan(Math.PI / 4 + p[i + 1] * RAD / 2));
    }
    set.world = w;
  }
  return set.world;
}

function strokeAreas(ctx, set, from, to, m, colour, width) {  // the rings of areas from..to-1 of the set
  if (to <= from) return;
  const w = worldOf(set);
  ctx.beginPath();
  for (let r = set.areaRings[from]; r < set.areaRings[to]; r++) {
    const end = 2 * set.ringStarts[r + 1];
    let i = 2 * set.ringStarts[r];
    ctx.moveTo(w[i] * m.sx + m.ox, w[i + 1] * m.sy + m.oy);
    // GeoJSON rings end on their first point; closePath() would add nothing but cost Skia ~20x the stroke time
    for (i += 2; i < end; i += 2) ctx.lineTo(w[i] * m.sx + m.ox, w[i + 1] * m.sy + m.oy);
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
    strokeAreas(ctx, context, 0, context.n, m, "rgba(150, 150, 150, 1)", 0.6);
    strokeAreas(ctx, areas, 0, areas.n, m, "rgba(110, 110, 110, 0.78)", args.lineWidth);
    if (selected >= 0) strokeAreas(ctx, areas, selected, selected + 1, m, "rgba(20, 20, 20, 1)", 3);
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
    // The geometry's requests go first: making the map holds this thread for a while (makeDeck).
    if (!deckgl) geoUrls(a).forEach(file);  // geoUrls: index.html
    makeDeck(a.lang);
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
  const nextAreas = aKey === areas.key ? areas : {key: aKey, ...(await shapes(a.geoBase, a.geo, codes))};
  const nextContext = cKey === context.key ? context
    : a.context ? {key: cKey, ...(await shapes(a.geoBase, a.context.geo, a.context.codes.split(",")))}
    : {...NO_AREAS, key: cKey};
  if (mine !== seq) return;  // a newer rerun arrived while the files loaded
  mark("geometry");
  if (!deckgl) throw deckError || new Error("the map could not be made");
  const fKey = JSON.stringify([a.palette, a.fill]);
  const recoloured = fKey !== fillKey || nextAreas !== areas;
  if (recoloured) fillVersion += 1;
  args = a; areas = nextAreas; context = nextContext; fillKey = fKey;
  selected = a.selected ? areas.codes.indexOf(a.selected) : -1;
  el.dataset.features = String(areas.n);
  el.dataset.fill = String(fillVersion);
  const vKey = JSON.stringify([a.view, a.panels]);
  const lKey = `${areas.key}|${context.key}|${a.selected}|${a.lineWidth}`;
  el.classList.remove("warming");  // the warm-up's canvas is shown from the first real draw
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
  // deck.gl draws a new list of layers (every rerun gives one) in its next frame, once, and the labels, the outlines
  // and data-painted follow (onAfterRender). A draw forced here as well drew every fill twice, the old colours first.
  committed = mine;
  recovered();
  if (painted === mine) el.dataset.painted = String(painted);
}

// The map is made when the first arguments arrive, once their geometry is being fetched: made sooner, its WebGL set-up
// held the page's only thread while Streamlit waited to send them (issue 16). It first draws one transparent triangle,
// with the fill layer's own settings, on a hidden canvas: in software WebGL (no usable GPU, a remote desktop) the GPU
// process compiles the layer's shaders for its first draw, ~0.1-0.2 s, and this lets it do so while the geometry
// loads rather than after. Antialiasing is off: the outlines above the fills are antialiased by the browser, and
// software WebGL fills four samples a pixel with it. If the map cannot be made (deck.gl missing, no WebGL), the
// first render says so over the map (draw throws, render shows the message).
const WARM_UP = {length: 1, startIndices: new Uint32Array([0, 3]), attributes: {
  getPolygon: {value: new Float32Array([101, 13, 101.01, 13, 101, 13.01]), size: 2}, indices: new Uint32Array([0, 1, 2])}};
let deckError = null;
function makeDeck(lang) {
  if (deckgl || deckError) return;
  try {
    // The canvas has its drawing size before WebGL starts: sized later, deck.gl reallocates its buffers (~40 ms in
    // software WebGL) on the first frame.
    const canvas = document.createElement("canvas"), dpr = window.devicePixelRatio || 1;
    Object.assign(canvas.style, {position: "absolute", left: "0", top: "0", width: "100%", height: "100%"});
    canvas.width = Math.max(1, Math.round(el.clientWidth * dpr));  // a frame not laid out yet: deck.gl resizes it
    canvas.height = Math.max(1, Math.round(el.clientHeight * dpr));
    el.insertBefore(canvas, el.firstChild);
    deckgl = new deck.Deck({
      canvas, deviceProps: {waitForPageLoad: false, webgl: {antialias: false}},
      viewState: {longitude: 101, latitude: 13, zoom: 4.6, minZoom: 4, maxZoom: 14}, controller: true,
      views: new deck.MapView({repeat: false}),
      layers: [areasLayer(WARM_UP, () => NONE, 0)],
      getTooltip: tooltip, onClick, onViewStateChange: onView,
      // WebGL is set up after the constructor returns: a failure there (no WebGL) is said over the map too
      onError: (e) => { deckError = e; fail(e, args ? args.lang : lang); },
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
}

// Streamlit posts the arguments again whenever the frame's height changes (the presentation view fits the map to the
// window): the same arguments would only draw again what is on screen, or cut short a first render still loading
// its geometry. A render that failed is tried again.
let lastArgs = null;
function onMessage(event) {
  if (!event.data || event.data.type !== "streamlit:render") return;
  const a = event.data.args && event.data.args.map;
  if (!a) return;
  const text = JSON.stringify(a);
  if (text === lastArgs && el.dataset.error === undefined) return;
  lastArgs = text;
  render(a);
}
window.addEventListener("message", onMessage);
window.povmapEarly = null;  // from here on this script reads the messages
early.renders.forEach(onMessage);
if (!early.ready) send("streamlit:componentReady", {apiVersion: 1});
