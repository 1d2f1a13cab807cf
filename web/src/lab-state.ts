/**
 * The lab's whole state — data points, model, attack, schedule, seed, view options — and its URL
 * form, so that a link reproduces what its author saw. Pure: no DOM, no worker (tested in Node,
 * test/web/lab-state.test.ts).
 *
 * URL (query string, every key optional; defaults below):
 *   pts=x,y,l;x,y,l;…   the points, l = 1 or -1 (4 decimals)   preset=s2   (name shown; `pts` wins)
 *   model=deep-linear  depth=2  width=10  attack=exact  p=inf  eps=0.1  schedule=normalized  lr=0.1
 *   init=1  seed=0  spf=200 (steps per frame)
 */

export const LAB_MODELS = ['linear', 'deep-linear', 'diagonal', 'diagonal-pm', 'conv', 'relu-mlp'] as const;
export type LabModel = (typeof LAB_MODELS)[number];
export const LAB_ATTACKS = ['none', 'exact', 'fgsm', 'fgm', 'pgd'] as const;
export type LabAttack = (typeof LAB_ATTACKS)[number];
export const LAB_SCHEDULES = ['normalized', 'loss-scaled', 'constant', 'loss-based'] as const;
export type LabSchedule = (typeof LAB_SCHEDULES)[number];
export const LAB_PRESETS = ['s1', 's2', 'sectors', 'synthetic'] as const;
export type LabPreset = (typeof LAB_PRESETS)[number];

/** One data point: coordinates and label ±1. */
export interface LabPoint {
  x: number;
  y: number;
  label: 1 | -1;
}

export interface LabState {
  /** The preset the points came from ('' once edited by hand or imported). */
  preset: LabPreset | '';
  points: LabPoint[];
  model: LabModel;
  depth: number;
  width: number;
  attack: LabAttack;
  /** Perturbation norm p ≥ 1 (Infinity for ℓ∞). */
  p: number;
  eps: number;
  schedule: LabSchedule;
  lr: number;
  initScale: number;
  seed: number;
  /** Training steps per animation frame. */
  stepsPerFrame: number;
}

/** S1 and S2 (docs/THEORY.md §8): S1 with its negatives, S2 as its two points of label +1. */
const S1: LabPoint[] = [
  { x: 0.5, y: 1.5, label: 1 },
  { x: 1.5, y: 0.5, label: 1 },
  { x: -0.5, y: -1.5, label: -1 },
  { x: -1.5, y: -0.5, label: -1 },
];
const S2: LabPoint[] = [
  { x: 1, y: 0.5, label: 1 },
  { x: 3, y: -1, label: 1 },
];

export const DEFAULT_STATE: Readonly<LabState> = Object.freeze({
  preset: 's2',
  points: S2,
  model: 'deep-linear',
  depth: 2,
  width: 10,
  attack: 'exact',
  p: Infinity,
  eps: 0.1,
  schedule: 'normalized',
  lr: 0.1,
  initScale: 1,
  seed: 0,
  stepsPerFrame: 200,
} satisfies LabState);

/** Deterministic generator for the synthetic presets (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const round4 = (v: number): number => Math.round(v * 1e4) / 1e4;

/**
 * The points of a preset. `sectors`: 4 angular sectors with alternating labels (XOR-like, for ReLU
 * nets; not linearly separable); `synthetic`: 20 points linearly separable through the origin with
 * margin ≥ 0.2 around a direction drawn from the seed.
 */
export function presetPoints(preset: LabPreset, seed = 0): LabPoint[] {
  if (preset === 's1') return S1.map((p) => ({ ...p }));
  if (preset === 's2') return S2.map((p) => ({ ...p }));
  const r = rng(seed + 1);
  const out: LabPoint[] = [];
  if (preset === 'sectors') {
    const k = 4;
    for (let i = 0; i < 24; i++) {
      const sector = i % k;
      const width = (2 * Math.PI) / k;
      const angle = sector * width + width * (0.2 + 0.6 * r());
      const radius = 1 + r();
      out.push({ x: round4(radius * Math.cos(angle)), y: round4(radius * Math.sin(angle)), label: sector % 2 === 0 ? 1 : -1 });
    }
    return out;
  }
  const phi = 2 * Math.PI * r();
  const w = [Math.cos(phi), Math.sin(phi)];
  while (out.length < 20) {
    const x = 4 * r() - 2;
    const y = 4 * r() - 2;
    const s = w[0] * x + w[1] * y;
    if (Math.abs(s) < 0.2) continue;
    out.push({ x: round4(x), y: round4(y), label: s > 0 ? 1 : -1 });
  }
  return out;
}

function fmtNumber(v: number): string {
  return v === Infinity ? 'inf' : String(v);
}

function parseNum(raw: string | null, field: string, ok: (v: number) => boolean, allowed: string): number | undefined {
  if (raw === null) return undefined;
  const v = raw === 'inf' || raw === 'Infinity' ? Infinity : Number(raw);
  if (raw.trim() === '' || Number.isNaN(v) || !ok(v)) throw new LabStateError(field, `${field}=${raw} is not allowed (${allowed})`);
  return v;
}

/** A URL parameter that cannot be read: names the parameter and what is allowed. */
export class LabStateError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'LabStateError';
  }
}

/** Points as `x,y,l;…` (4 decimals). */
export function encodePoints(points: readonly LabPoint[]): string {
  return points.map((p) => `${round4(p.x)},${round4(p.y)},${p.label}`).join(';');
}

export function decodePoints(text: string): LabPoint[] {
  if (text.trim() === '') return [];
  return text.split(';').map((item, k) => {
    const parts = item.split(',');
    const [x, y, l] = parts.map(Number);
    if (parts.length !== 3 || !Number.isFinite(x) || !Number.isFinite(y) || (l !== 1 && l !== -1)) {
      throw new LabStateError('pts', `pts: point ${k + 1} "${item}" is not x,y,label with finite x, y and label 1 or -1`);
    }
    return { x, y, label: l as 1 | -1 };
  });
}

/** The state as a query string (without '?'); defaults are left out, points are always written. */
export function encodeState(s: LabState): string {
  const q = new URLSearchParams();
  if (s.preset) q.set('preset', s.preset);
  q.set('pts', encodePoints(s.points));
  const d = DEFAULT_STATE;
  const put = (key: string, v: number | string, dv: number | string): void => {
    if (v !== dv) q.set(key, typeof v === 'number' ? fmtNumber(v) : v);
  };
  put('model', s.model, d.model);
  put('depth', s.depth, d.depth);
  put('width', s.width, d.width);
  put('attack', s.attack, d.attack);
  put('p', s.p, d.p);
  put('eps', s.eps, d.eps);
  put('schedule', s.schedule, d.schedule);
  put('lr', s.lr, d.lr);
  put('init', s.initScale, d.initScale);
  put('seed', s.seed, d.seed);
  put('spf', s.stepsPerFrame, d.stepsPerFrame);
  return q.toString().replaceAll('%2C', ',').replaceAll('%3B', ';');
}

function oneOf<T extends string>(raw: string | null, field: string, allowed: readonly T[]): T | undefined {
  if (raw === null) return undefined;
  if (!(allowed as readonly string[]).includes(raw)) throw new LabStateError(field, `${field}=${raw} is not allowed (one of ${allowed.join(', ')})`);
  return raw as T;
}

/** Reads a query string (with or without '?'); unknown keys are ignored, bad values throw LabStateError. */
export function decodeState(query: string): LabState {
  const q = new URLSearchParams(query.startsWith('?') ? query.slice(1) : query);
  const d = DEFAULT_STATE;
  const preset = oneOf(q.get('preset'), 'preset', LAB_PRESETS);
  const seed = parseNum(q.get('seed'), 'seed', (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0') ?? d.seed;
  const pts = q.get('pts');
  const points = pts !== null ? decodePoints(pts) : preset ? presetPoints(preset, seed) : d.points.map((p) => ({ ...p }));
  return {
    preset: preset ?? (pts !== null ? '' : d.preset),
    points,
    model: oneOf(q.get('model'), 'model', LAB_MODELS) ?? d.model,
    depth: parseNum(q.get('depth'), 'depth', (v) => Number.isInteger(v) && v >= 1 && v <= 8, 'an integer 1…8') ?? d.depth,
    width: parseNum(q.get('width'), 'width', (v) => Number.isInteger(v) && v >= 1 && v <= 200, 'an integer 1…200') ?? d.width,
    attack: oneOf(q.get('attack'), 'attack', LAB_ATTACKS) ?? d.attack,
    p: parseNum(q.get('p'), 'p', (v) => v >= 1, 'a number ≥ 1 or inf') ?? d.p,
    eps: parseNum(q.get('eps'), 'eps', (v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0') ?? d.eps,
    schedule: oneOf(q.get('schedule'), 'schedule', LAB_SCHEDULES) ?? d.schedule,
    lr: parseNum(q.get('lr'), 'lr', (v) => v > 0 && Number.isFinite(v), 'a number > 0') ?? d.lr,
    initScale: parseNum(q.get('init'), 'init', (v) => v > 0 && Number.isFinite(v), 'a number > 0') ?? d.initScale,
    seed,
    stepsPerFrame: parseNum(q.get('spf'), 'spf', (v) => Number.isInteger(v) && v >= 1 && v <= 100000, 'an integer 1…100000') ?? d.stepsPerFrame,
  };
}

/** CSV of the points: header `x,y,label`, one row per point. */
export function pointsToCsv(points: readonly LabPoint[]): string {
  return ['x,y,label', ...points.map((p) => `${p.x},${p.y},${p.label}`)].join('\n') + '\n';
}

/** Reads `x,y,label` CSV (header optional); throws LabStateError naming the line. */
export function pointsFromCsv(text: string): LabPoint[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const out: LabPoint[] = [];
  lines.forEach((line, k) => {
    if (k === 0 && /[a-z]/i.test(line)) return;
    const parts = line.split(',').map((s) => s.trim());
    const [x, y, l] = parts.map(Number);
    if (parts.length !== 3 || !Number.isFinite(x) || !Number.isFinite(y) || (l !== 1 && l !== -1)) {
      throw new LabStateError('csv', `CSV line ${k + 1} "${line}" is not x,y,label with finite x, y and label 1 or -1`);
    }
    out.push({ x, y, label: l as 1 | -1 });
  });
  if (out.length === 0) throw new LabStateError('csv', 'the CSV holds no points');
  return out;
}
