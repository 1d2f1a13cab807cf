/**
 * The lab page: settings panel, the data plane (points, ℓp ε-balls, adversarial points, decision
 * boundary or heat map, reference directions), the unit circle with the predictor's direction and the
 * ε-path, and live curves on log-t axes. Training runs in lab-worker.ts; the whole state lives in the
 * URL (lab-state.ts).
 */
import * as Plot from '@observablehq/plot';
import {
  DEFAULT_STATE,
  LAB_ATTACKS,
  LAB_MODELS,
  LAB_PRESETS,
  LAB_SCHEDULES,
  decodeState,
  encodeState,
  pointsFromCsv,
  pointsToCsv,
  presetPoints,
  type LabPreset,
  type LabState,
} from './lab-state.ts';
import type { LabReferences, LabSnapshot } from './lab-core.ts';
import { dual } from './planar.ts';

// ---------------------------------------------------------------- state and worker

let state: LabState;
let urlError: string | null = null;
try {
  state = decodeState(location.search);
} catch (e) {
  state = { ...DEFAULT_STATE, points: DEFAULT_STATE.points.map((p) => ({ ...p })) };
  urlError = (e as Error).message;
}
let references: LabReferences | null = null;
let snapshot: LabSnapshot | null = null;
let playing = false;
let addLabel: 1 | -1 = 1;
let heat: { size: number; values: Float64Array; box: [number, number, number, number] } | null = null;
let lastHeatRequest = 0;
/** Curves: log-thinned history of the snapshots. */
let curveRows: { t: number; angle: number | null; advMargin: number; smoothed: number; kkt: number | null; alignment: number | null }[] = [];
let lastCurves = 0;
/** Frames drawn so far (the browser test and bench read it). */
let framesDrawn = 0;

const worker = new Worker(new URL('./lab-worker.ts', import.meta.url), { type: 'module' });
const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

function message(text: string): void {
  $('message').textContent = text;
}

worker.onmessage = (e: MessageEvent) => {
  const m = e.data;
  if (m.type === 'ready') {
    references = m.references;
    updateLegend();
  } else if (m.type === 'frame') {
    snapshot = m.snapshot as LabSnapshot;
    playing = m.playing;
    $('rate').textContent = String(Math.round(m.stepsPerSecond));
    if (m.error) message(`stopped: ${m.error}`);
    remember(snapshot);
    requestAnimationFrame(() => {
      draw();
      worker.postMessage({ type: 'ack' });
    });
    updatePlayButton();
  } else if (m.type === 'grid') {
    heat = { size: m.size, values: m.values, box: m.box };
  } else if (m.type === 'error') {
    playing = false;
    snapshot = null;
    references = null;
    message(m.message);
    updatePlayButton();
    draw();
  }
};

function reset(): void {
  curveRows = [];
  heat = null;
  snapshot = null;
  message(urlError ?? '');
  urlError = null;
  worker.postMessage({ type: 'reset', state });
  window.history.replaceState(null, '', `${location.pathname}?${encodeState(state)}`);
  renderCurves(true);
}

function remember(s: LabSnapshot): void {
  const last = curveRows[curveRows.length - 1];
  if (last && s.t < last.t) curveRows = [];
  if (last && s.t === last.t) return;
  // Log-spaced thinning: keep t when it is ≥ 1 % past the last kept step (and always the first ones).
  if (!last || s.t < 50 || s.t >= last.t * 1.01) {
    curveRows.push({ t: s.t, angle: s.angleDeg, advMargin: s.advMargin, smoothed: s.smoothedMargin, kkt: s.kkt, alignment: s.alignment });
  }
}

// ---------------------------------------------------------------- controls

type Field = { key: keyof LabState; label: string; el: HTMLInputElement | HTMLSelectElement };
const fields: Field[] = [];

function select(key: keyof LabState, label: string, options: readonly string[], format = (v: unknown) => String(v)): void {
  const el = document.createElement('select');
  el.id = `f-${key}`;
  for (const o of options) {
    const opt = document.createElement('option');
    opt.value = o;
    opt.textContent = o;
    el.append(opt);
  }
  el.value = format(state[key]);
  fields.push({ key, label, el });
}

function number(key: keyof LabState, label: string, step: string, min?: string): void {
  const el = document.createElement('input');
  el.type = 'number';
  el.id = `f-${key}`;
  el.step = step;
  if (min !== undefined) el.min = min;
  el.value = state[key] === Infinity ? 'inf' : String(state[key]);
  fields.push({ key, label, el });
}

function labelled(label: string, el: HTMLElement, hint?: string): HTMLElement {
  const l = document.createElement('label');
  l.textContent = label;
  l.htmlFor = el.id;
  l.append(el);
  if (hint) l.title = hint;
  return l;
}

function button(text: string, id: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement('button');
  b.textContent = text;
  b.id = id;
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

const pOptions = ['1', '2', 'inf', '1.5', '3', '4'];

/** p: any number ≥ 1 or inf, typed or picked from the common ones. */
function pInput(): void {
  const el = document.createElement('input');
  el.type = 'text';
  el.id = 'f-p';
  el.setAttribute('list', 'p-values');
  el.value = state.p === Infinity ? 'inf' : String(state.p);
  const list = document.createElement('datalist');
  list.id = 'p-values';
  for (const o of pOptions) {
    const opt = document.createElement('option');
    opt.value = o;
    list.append(opt);
  }
  document.body.append(list);
  fields.push({ key: 'p', label: 'p (≥ 1 or inf)', el });
}

function buildControls(): void {
  const root = $('controls');
  // Data.
  const data = document.createElement('fieldset');
  data.innerHTML = '<legend>data</legend>';
  const preset = document.createElement('select');
  preset.id = 'f-preset';
  for (const p of ['', ...LAB_PRESETS]) {
    const o = document.createElement('option');
    o.value = p;
    o.textContent = p === '' ? '(own points)' : p;
    preset.append(o);
  }
  preset.value = state.preset;
  preset.addEventListener('change', () => {
    if (preset.value === '') return;
    state = { ...state, preset: preset.value as LabPreset, points: presetPoints(preset.value as LabPreset, state.seed) };
    reset();
  });
  data.append(labelled('preset', preset));
  const labelBtn = button('adding label +1', 'add-label', () => {
    addLabel = addLabel === 1 ? -1 : 1;
    labelBtn.textContent = `adding label ${addLabel === 1 ? '+1' : '−1'}`;
  });
  const clear = button('clear', 'clear', () => {
    state = { ...state, preset: '', points: [] };
    reset();
  });
  const exportCsv = button('export CSV', 'export-csv', () => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(new Blob([pointsToCsv(state.points)], { type: 'text/csv' }));
    a.download = 'advbias-lab-points.csv';
    a.click();
  });
  const importCsv = document.createElement('input');
  importCsv.type = 'file';
  importCsv.accept = '.csv,text/csv';
  importCsv.id = 'import-csv';
  importCsv.addEventListener('change', async () => {
    const f = importCsv.files?.[0];
    if (!f) return;
    try {
      state = { ...state, preset: '', points: pointsFromCsv(await f.text()) };
      reset();
    } catch (e) {
      message((e as Error).message);
    }
  });
  const btns = document.createElement('div');
  btns.className = 'buttons';
  btns.append(labelBtn, clear, exportCsv);
  const hint = document.createElement('div');
  hint.className = 'hint';
  hint.textContent = 'Click the plane to add a point (shift-click: the other label); click a point to remove it.';
  data.append(btns, labelled('import CSV', importCsv), hint);
  root.append(data);

  // Model, attack, schedule.
  select('model', 'model', LAB_MODELS);
  number('depth', 'depth L', '1', '1');
  number('width', 'width', '1', '1');
  select('attack', 'attack', LAB_ATTACKS);
  pInput();
  number('eps', 'ε', '0.01', '0');
  select('schedule', 'schedule', LAB_SCHEDULES);
  number('lr', 'lr', '0.01', '0');
  number('initScale', 'init scale', '0.1', '0');
  number('seed', 'seed', '1', '0');
  number('stepsPerFrame', 'steps per frame', '10', '1');
  const groups: [string, (keyof LabState)[]][] = [
    ['model', ['model', 'depth', 'width']],
    ['attack', ['attack', 'p', 'eps']],
    ['training', ['schedule', 'lr', 'initScale', 'seed', 'stepsPerFrame']],
  ];
  for (const [name, keys] of groups) {
    const fs = document.createElement('fieldset');
    fs.innerHTML = `<legend>${name}</legend>`;
    for (const k of keys) {
      const f = fields.find((x) => x.key === k)!;
      fs.append(labelled(f.label, f.el));
      f.el.addEventListener('change', () => onField(f));
    }
    if (name === 'attack') {
      const slider = document.createElement('input');
      slider.type = 'range';
      slider.id = 'eps-slider';
      slider.min = '0';
      slider.max = '1';
      slider.step = '0.001';
      slider.addEventListener('input', () => {
        const max = references?.epsMax ?? 1;
        const v = Math.round(Number(slider.value) * max * 1e4) / 1e4;
        (fields.find((x) => x.key === 'eps')!.el as HTMLInputElement).value = String(v);
        state = { ...state, eps: v };
        reset();
      });
      fs.append(labelled('ε / γ_q*', slider, 'ε from 0 to γ_q* (the largest ε that keeps the data adversarially separable)'));
    }
    root.append(fs);
  }
  const run = document.createElement('div');
  run.className = 'buttons';
  run.append(
    button('play', 'play', () => {
      worker.postMessage({ type: playing ? 'pause' : 'play' });
      playing = !playing;
      updatePlayButton();
    }),
    button('step', 'step-once', () => worker.postMessage({ type: 'step', count: state.stepsPerFrame })),
    button('reset', 'reset', () => reset()),
    button('copy link', 'copy-link', () => void navigator.clipboard?.writeText(location.href)),
  );
  root.append(run);
}

function onField(f: Field): void {
  const raw = f.el.value;
  let v: unknown = raw;
  if (f.el instanceof HTMLInputElement && f.el.type === 'number') v = Number(raw);
  if (f.key === 'p') {
    v = raw.trim() === 'inf' || raw.trim() === '∞' ? Infinity : Number(raw);
    if (raw.trim() === '' || Number.isNaN(v as number) || (v as number) < 1) {
      message(`p: "${raw}" is not allowed (a number ≥ 1 or inf)`);
      return;
    }
  }
  if (typeof v === 'number' && !Number.isFinite(v) && f.key !== 'p') {
    message(`${f.label}: "${raw}" is not a number`);
    return;
  }
  // Validate through the URL form (the same rules as a shared link).
  try {
    const next = { ...state, [f.key]: v } as LabState;
    decodeState(encodeState(next));
    state = next;
    reset();
  } catch (e) {
    message((e as Error).message);
  }
}

function updatePlayButton(): void {
  $('play').textContent = playing ? 'pause' : 'play';
}

// ---------------------------------------------------------------- drawing

const COLORS = { pos: '#1f6fd1', neg: '#e07b00', l2: '#555', lq: '#9c27b0', adv: '#d62728', c3: '#2ca02c', beta: '#111' };
const REF_NAMES: Record<'l2' | 'lq' | 'adv' | 'c3', string> = { l2: 'ℓ2-SVM', lq: 'ℓq-SVM', adv: 'adversarial SVM (B)', c3: 'C3 interpolation norm' };

/** World box: symmetric about 0, fitting the points and their ε-balls with 25 % padding. */
function worldBox(): [number, number, number, number] {
  let r = 1;
  for (const p of state.points) r = Math.max(r, Math.abs(p.x), Math.abs(p.y));
  r = (r + (state.attack === 'none' ? 0 : state.eps)) * 1.25;
  return [-r, r, -r, r];
}

function toScreen(c: HTMLCanvasElement, box: [number, number, number, number], x: number, y: number): [number, number] {
  return [((x - box[0]) / (box[1] - box[0])) * c.width, ((box[3] - y) / (box[3] - box[2])) * c.height];
}

function lineThroughOrigin(g: CanvasRenderingContext2D, c: HTMLCanvasElement, box: [number, number, number, number], dir: readonly number[], color: string, dash: number[]): void {
  // The decision boundary of β: the line ⟂ β through 0.
  const R = box[1] * 2;
  const [a0, a1] = toScreen(c, box, -dir[1] * R, dir[0] * R);
  const [b0, b1] = toScreen(c, box, dir[1] * R, -dir[0] * R);
  g.save();
  g.strokeStyle = color;
  g.lineWidth = 1.5;
  g.setLineDash(dash);
  g.beginPath();
  g.moveTo(a0, a1);
  g.lineTo(b0, b1);
  g.stroke();
  g.restore();
}

function ballPath(g: CanvasRenderingContext2D, c: HTMLCanvasElement, box: [number, number, number, number], x: number, y: number, eps: number, p: number): void {
  g.beginPath();
  const K = 96;
  for (let k = 0; k <= K; k++) {
    const t = (2 * Math.PI * k) / K;
    const ct = Math.cos(t);
    const st = Math.sin(t);
    let u: number;
    let v: number;
    if (p === Infinity) {
      const m = Math.max(Math.abs(ct), Math.abs(st));
      u = ct / m;
      v = st / m;
    } else {
      // |u|^p + |v|^p = 1.
      u = Math.sign(ct) * Math.abs(ct) ** (2 / p);
      v = Math.sign(st) * Math.abs(st) ** (2 / p);
    }
    const [sx, sy] = toScreen(c, box, x + eps * u, y + eps * v);
    if (k === 0) g.moveTo(sx, sy);
    else g.lineTo(sx, sy);
  }
  g.closePath();
}

function perturbationNorm(): number {
  return state.attack === 'fgsm' ? Infinity : state.p;
}

function draw(): void {
  framesDrawn++;
  const c = $<HTMLCanvasElement>('plane');
  const g = c.getContext('2d')!;
  const box = worldBox();
  g.clearRect(0, 0, c.width, c.height);
  // Background: heat map of f for ReLU nets, half-planes of sign ⟨β, x⟩ for linear-in-x models.
  if (state.model === 'relu-mlp') {
    const now = performance.now();
    if (now - lastHeatRequest > 250) {
      lastHeatRequest = now;
      worker.postMessage({ type: 'grid', size: 64, box });
    }
    if (heat) drawHeat(g, c, heat);
  } else if (snapshot?.direction) {
    // The two half-planes of sign ⟨β, x⟩ as rotated rectangles (no per-pixel pass: 60 fps).
    const d = snapshot.direction;
    const [ox, oy] = toScreen(c, box, 0, 0);
    const R = 2 * (c.width + c.height);
    g.save();
    g.translate(ox, oy);
    g.rotate(Math.atan2(-d[1], d[0]));
    g.fillStyle = 'rgb(225, 236, 252)';
    g.fillRect(0, -R, R, 2 * R);
    g.fillStyle = 'rgb(252, 236, 220)';
    g.fillRect(-R, -R, R, 2 * R);
    g.restore();
  }
  // Axes.
  g.strokeStyle = '#ddd';
  g.lineWidth = 1;
  const [ox, oy] = toScreen(c, box, 0, 0);
  g.beginPath();
  g.moveTo(0, oy);
  g.lineTo(c.width, oy);
  g.moveTo(ox, 0);
  g.lineTo(ox, c.height);
  g.stroke();
  // Reference directions' boundaries.
  if (references) {
    for (const key of ['l2', 'lq', 'adv', 'c3'] as const) {
      const r = references[key];
      if (r) lineThroughOrigin(g, c, box, r.direction, COLORS[key], [6, 4]);
    }
  }
  // The network's boundary.
  if (snapshot?.direction) lineThroughOrigin(g, c, box, snapshot.direction, COLORS.beta, []);
  // ε-balls and adversarial points.
  const eps = state.attack === 'none' ? 0 : state.eps;
  const p = perturbationNorm();
  state.points.forEach((pt, i) => {
    const color = pt.label === 1 ? COLORS.pos : COLORS.neg;
    if (eps > 0) {
      ballPath(g, c, box, pt.x, pt.y, eps, p);
      g.strokeStyle = color;
      g.globalAlpha = 0.5;
      g.stroke();
      g.globalAlpha = 1;
    }
    const [sx, sy] = toScreen(c, box, pt.x, pt.y);
    if (snapshot && eps > 0 && snapshot.adversarial.length === 2 * state.points.length) {
      const [ax, ay] = toScreen(c, box, snapshot.adversarial[2 * i], snapshot.adversarial[2 * i + 1]);
      g.strokeStyle = color;
      g.beginPath();
      g.moveTo(sx, sy);
      g.lineTo(ax, ay);
      g.stroke();
      g.beginPath();
      g.moveTo(ax - 4, ay - 4);
      g.lineTo(ax + 4, ay + 4);
      g.moveTo(ax + 4, ay - 4);
      g.lineTo(ax - 4, ay + 4);
      g.stroke();
    }
    g.fillStyle = color;
    g.beginPath();
    g.arc(sx, sy, 5, 0, 2 * Math.PI);
    g.fill();
  });
  drawCircle();
  updateStatus();
  const now = performance.now();
  if (now - lastCurves > 250) {
    lastCurves = now;
    renderCurves(false);
  }
}

function drawHeat(g: CanvasRenderingContext2D, c: HTMLCanvasElement, h: NonNullable<typeof heat>): void {
  let max = 0;
  for (const v of h.values) max = Math.max(max, Math.abs(v));
  const off = document.createElement('canvas');
  off.width = h.size;
  off.height = h.size;
  const og = off.getContext('2d')!;
  const img = og.createImageData(h.size, h.size);
  for (let k = 0; k < h.values.length; k++) {
    const s = max > 0 ? h.values[k] / max : 0;
    const a = Math.min(1, Math.abs(s) ** 0.5);
    img.data[4 * k] = s > 0 ? 255 - 45 * a : 255;
    img.data[4 * k + 1] = s > 0 ? 255 - 30 * a : 255 - 30 * a;
    img.data[4 * k + 2] = s > 0 ? 255 : 255 - 60 * a;
    img.data[4 * k + 3] = 255;
  }
  og.putImageData(img, 0, 0);
  g.imageSmoothingEnabled = true;
  g.drawImage(off, 0, 0, c.width, c.height);
}

function drawCircle(): void {
  const c = $<HTMLCanvasElement>('circle');
  const g = c.getContext('2d')!;
  g.clearRect(0, 0, c.width, c.height);
  const cx = c.width / 2;
  const cy = c.height / 2;
  const R = c.width * 0.38;
  g.strokeStyle = '#bbb';
  g.beginPath();
  g.arc(cx, cy, R, 0, 2 * Math.PI);
  g.stroke();
  // The ε-path of the predicted problem (computed in the worker with the references).
  const path = references?.path ?? [];
  g.strokeStyle = references?.predicted === 'c3' ? COLORS.c3 : COLORS.adv;
  g.globalAlpha = 0.35;
  g.lineWidth = 4;
  g.beginPath();
  path.forEach(([a, b], k) => (k === 0 ? g.moveTo(cx + R * a, cy - R * b) : g.lineTo(cx + R * a, cy - R * b)));
  g.stroke();
  g.globalAlpha = 1;
  g.lineWidth = 1;
  if (references) {
    for (const k of ['l2', 'lq', 'adv', 'c3'] as const) {
      const r = references[k];
      if (!r) continue;
      const [a, b] = r.direction;
      g.strokeStyle = COLORS[k];
      g.lineWidth = 2;
      g.beginPath();
      g.moveTo(cx + 0.85 * R * a, cy - 0.85 * R * b);
      g.lineTo(cx + 1.15 * R * a, cy - 1.15 * R * b);
      g.stroke();
    }
  }
  if (snapshot?.direction) {
    const [a, b] = snapshot.direction;
    g.strokeStyle = COLORS.beta;
    g.lineWidth = 1.5;
    g.beginPath();
    g.moveTo(cx, cy);
    g.lineTo(cx + R * a, cy - R * b);
    g.stroke();
    g.fillStyle = COLORS.beta;
    g.beginPath();
    g.arc(cx + R * a, cy - R * b, 4, 0, 2 * Math.PI);
    g.fill();
  }
  g.fillStyle = '#666';
  g.font = '11px system-ui';
  g.fillText('β/‖β‖ and the ε-path', 6, 14);
}

function updateLegend(): void {
  const ul = $('legend');
  ul.innerHTML = '';
  const add = (color: string, text: string, dashed: boolean): void => {
    const li = document.createElement('li');
    const i = document.createElement('i');
    i.style.borderTopColor = color;
    i.style.borderTopStyle = dashed ? 'dashed' : 'solid';
    li.append(i, document.createTextNode(text));
    ul.append(li);
  };
  add(COLORS.beta, 'the network (β)', false);
  if (!references) return;
  const q = dual(state.attack === 'none' ? 2 : perturbationNorm());
  for (const k of ['l2', 'lq', 'adv', 'c3'] as const) {
    if (!references[k]) continue;
    const name = k === 'lq' ? `ℓq-SVM (q = ${q === Infinity ? '∞' : +q.toFixed(3)})` : REF_NAMES[k];
    add(COLORS[k], `${name}${references.predicted === k ? ' — predicted' : ''}`, true);
  }
  $('target-name').textContent = references.predicted ? REF_NAMES[references.predicted] : 'the prediction (none for ReLU nets)';
  const slider = document.getElementById('eps-slider') as HTMLInputElement | null;
  if (slider) {
    // Not adversarially separable at any ε (e.g. the sectors): nothing to slide over.
    slider.disabled = !(references.epsMax > 0);
    if (references.epsMax > 0) slider.value = String(Math.min(1, state.eps / references.epsMax));
  }
}

function fmtAngle(a: number | null): string {
  if (a === null) return '—';
  return a >= 0.01 ? `${a.toFixed(4)}°` : `${a.toExponential(2)}°`;
}

function updateStatus(): void {
  if (!snapshot) return;
  $('step').textContent = String(snapshot.t);
  $('angle').textContent = fmtAngle(snapshot.angleDeg);
  $('angle').dataset.value = snapshot.angleDeg === null ? '' : String(snapshot.angleDeg);
  $('gap').textContent = snapshot.gap === null ? '—' : snapshot.gap.toExponential(2);
  $('gamma').textContent = Number.isFinite(snapshot.advMargin) ? snapshot.advMargin.toPrecision(5) : '—';
}

function renderCurves(clear: boolean): void {
  const root = $('curves');
  if (clear || curveRows.length < 2) {
    root.innerHTML = '';
    if (curveRows.length < 2) return;
  }
  const rows = curveRows.filter((h) => h.t > 0);
  const panels: { title: string; y: string; data: { t: number; v: number; series: string }[]; log: boolean }[] = [
    { title: 'angle to the prediction (degrees)', y: 'degrees', log: true, data: rows.filter((h) => h.angle !== null && h.angle > 0).map((h) => ({ t: h.t, v: h.angle!, series: 'angle' })) },
    {
      title: 'normalized margins γ̄ (adversarial) and γ̃ (smoothed)',
      y: 'margin',
      log: false,
      data: rows.flatMap((h) => [
        ...(Number.isFinite(h.advMargin) ? [{ t: h.t, v: h.advMargin, series: 'γ̄' }] : []),
        ...(Number.isFinite(h.smoothed) ? [{ t: h.t, v: h.smoothed, series: 'γ̃' }] : []),
      ]),
    },
    { title: 'KKT stationarity residual', y: 'residual', log: true, data: rows.filter((h) => h.kkt !== null && h.kkt > 0).map((h) => ({ t: h.t, v: h.kkt!, series: 'KKT' })) },
    { title: '1 − adjacent-layer alignment (deep linear)', y: '1 − alignment', log: true, data: rows.filter((h) => h.alignment !== null && 1 - h.alignment! > 0).map((h) => ({ t: h.t, v: 1 - h.alignment!, series: 'alignment' })) },
  ];
  root.innerHTML = '';
  for (const p of panels) {
    if (p.data.length < 2) continue;
    const el = Plot.plot({
      title: p.title,
      width: 360,
      height: 200,
      x: { type: 'log', label: 'step t' },
      y: { type: p.log ? 'log' : 'linear', label: p.y },
      color: { legend: new Set(p.data.map((d) => d.series)).size > 1 },
      marks: [Plot.line(p.data, { x: 't', y: 'v', stroke: 'series', z: 'series' }), Plot.ruleY(p.log ? [] : [0])],
    });
    root.append(el);
  }
}

// ---------------------------------------------------------------- clicks on the plane

function onPlaneClick(ev: MouseEvent): void {
  const c = $<HTMLCanvasElement>('plane');
  const rect = c.getBoundingClientRect();
  const sx = ((ev.clientX - rect.left) / rect.width) * c.width;
  const sy = ((ev.clientY - rect.top) / rect.height) * c.height;
  const box = worldBox();
  const x = box[0] + (sx / c.width) * (box[1] - box[0]);
  const y = box[3] - (sy / c.height) * (box[3] - box[2]);
  // A click within 8 px of a point removes it.
  const hit = state.points.findIndex((p) => {
    const [px, py] = toScreen(c, box, p.x, p.y);
    return Math.hypot(px - sx, py - sy) <= 8;
  });
  const points = state.points.slice();
  if (hit >= 0) points.splice(hit, 1);
  else {
    const label = ev.shiftKey ? (-addLabel as 1 | -1) : addLabel;
    points.push({ x: Math.round(x * 1e4) / 1e4, y: Math.round(y * 1e4) / 1e4, label });
  }
  state = { ...state, preset: '', points };
  (document.getElementById('f-preset') as HTMLSelectElement).value = '';
  reset();
}

buildControls();
$('plane').addEventListener('click', onPlaneClick);
// What the browser tests (test/web/lab-browser.test.ts) read besides the page's text.
(window as unknown as { advbiasLab: unknown }).advbiasLab = {
  state: () => state,
  references: () => references,
  snapshot: () => snapshot && { ...snapshot, adversarial: Array.from(snapshot.adversarial) },
  frames: () => framesDrawn,
};
reset();
