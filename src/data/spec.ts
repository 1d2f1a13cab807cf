/**
 * The `--data` value: which data set to use, as typed text ↔ a tagged description.
 *
 * Grammar (whitespace around the whole value and around keys/values is ignored):
 *
 *     spec      = "s1" | "s1-unmirrored" | "s2" | "s2-mirrored"
 *               | "synthetic" [ ":" [ kv { "," kv } ] ]        kv = ("n"|"d"|"margin"|"seed") "=" number
 *               | "sectors" [ ":" [ kv { "," kv } ] ]          kv = ("n"|"k"|"seed"|"gap") "=" number
 *               | "mnist:" digits { ";" opt }                  digits = "all" | digit "," digit { "," digit }
 *                                                              opt = ("per"|"offset") "=" integer
 *               | path ending in ".json" or ".csv" (any case)
 *
 * synthetic defaults: n=100, d=20, margin=0.1, seed=0. Each key at most once; unknown keys are
 * rejected. `;` is special to shells, so `mnist:3,8;per=500` must be quoted on a command line.
 * Library code: no file access (files are read by `src/node/load-data.ts`).
 */
import { InputError } from '../errors.ts';
import type { Dataset } from './dataset.ts';
import { s1, s2 } from './builtin.ts';
import { syntheticSeparable, SYNTHETIC_MAX_ENTRIES } from './synthetic.ts';
import { sectors, SECTORS_DEFAULTS } from './sectors.ts';
import { ALL_DIGITS, loadMnist, mnistSpecText, validateMnistDigits, type MnistSource } from './mnist.ts';

/** A parsed `--data` value. */
export type DataSpec =
  | { readonly kind: 's1'; readonly mirrored: boolean }
  | { readonly kind: 's2'; readonly mirrored: boolean }
  | {
      readonly kind: 'synthetic';
      readonly n: number;
      readonly d: number;
      readonly margin: number;
      readonly seed: number;
    }
  | {
      readonly kind: 'mnist';
      readonly digits: readonly number[];
      readonly perClass?: number;
      readonly offset?: number;
    }
  | { readonly kind: 'sectors'; readonly n: number; readonly k: number; readonly seed: number; readonly gap: number }
  | { readonly kind: 'file'; readonly path: string; readonly format: 'json' | 'csv' };

/** The kinds {@link loadBuiltinData} can build without reading a file. */
export type BuiltinDataSpec = Exclude<DataSpec, { kind: 'file' }>;

/** Defaults of `synthetic:` keys that are not given. */
export const SYNTHETIC_DEFAULTS = { n: 100, d: 20, margin: 0.1, seed: 0 } as const;

const FIELD = '--data';
const USAGE =
  'use s1, s2, s2-mirrored, synthetic:n=100,d=20,margin=0.1,seed=0, sectors:n=40,k=4,seed=0,gap=0.25, mnist:3,8 or mnist:all (optionally ;per=N;offset=N), or a .json/.csv file';

const INTEGER_RE = /^[+-]?\d+$/;
const DECIMAL_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function bad(text: string, problem: string): never {
  throw new InputError(`${FIELD} "${text}": ${problem}`, FIELD);
}

/** Split `k=v` pairs on `sep`, rejecting unknown and repeated keys; values are trimmed text. */
function keyValues(text: string, body: string, sep: string, allowed: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  if (body.trim() === '') return out;
  for (const part of body.split(sep)) {
    const eq = part.indexOf('=');
    if (eq < 0) bad(text, `"${part.trim()}" is not key=value (keys: ${allowed.join(', ')})`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!allowed.includes(key)) bad(text, `unknown key "${key}" (allowed: ${allowed.join(', ')})`);
    if (out.has(key)) bad(text, `key "${key}" is given twice`);
    if (value === '') bad(text, `key "${key}" has no value`);
    out.set(key, value);
  }
  return out;
}

function integerValue(text: string, key: string, value: string, min: number): number {
  const v = Number(value);
  if (!INTEGER_RE.test(value) || !Number.isSafeInteger(v) || v < min) {
    bad(text, `${key}=${value} is not allowed: ${key} must be an integer >= ${min}`);
  }
  return v;
}

/**
 * Parse a `--data` value (grammar in the module doc). Throws an `InputError` naming `--data`, the
 * value and what is allowed. File paths are only recognized, not checked for existence.
 */
export function parseDataSpec(text: string): DataSpec {
  const t = text.trim();
  if (t === '') bad(text, `empty value: ${USAGE}`);
  switch (t) {
    case 's1':
      return { kind: 's1', mirrored: true };
    case 's1-unmirrored':
      return { kind: 's1', mirrored: false };
    case 's2':
      return { kind: 's2', mirrored: false };
    case 's2-mirrored':
      return { kind: 's2', mirrored: true };
  }
  if (t === 'synthetic' || t.startsWith('synthetic:')) {
    const kv = keyValues(t, t.slice('synthetic'.length + 1), ',', ['n', 'd', 'margin', 'seed']);
    const n = kv.has('n') ? integerValue(t, 'n', kv.get('n')!, 1) : SYNTHETIC_DEFAULTS.n;
    const d = kv.has('d') ? integerValue(t, 'd', kv.get('d')!, 1) : SYNTHETIC_DEFAULTS.d;
    const seed = kv.has('seed') ? integerValue(t, 'seed', kv.get('seed')!, Number.MIN_SAFE_INTEGER) : SYNTHETIC_DEFAULTS.seed;
    let margin: number = SYNTHETIC_DEFAULTS.margin;
    if (kv.has('margin')) {
      const m = kv.get('margin')!;
      margin = Number(m);
      if (!DECIMAL_RE.test(m) || !Number.isFinite(margin) || margin <= 0) {
        bad(t, `margin=${m} is not allowed: margin must be a finite number > 0`);
      }
    }
    if (n * d > SYNTHETIC_MAX_ENTRIES) bad(t, `n·d = ${n * d} inputs is more than the ${SYNTHETIC_MAX_ENTRIES} (2^27, 1 GiB of float64) a generated set may hold`);
    return { kind: 'synthetic', n, d, margin, seed };
  }
  if (t === 'sectors' || t.startsWith('sectors:')) {
    const kv = keyValues(t, t.slice('sectors'.length + 1), ',', ['n', 'k', 'seed', 'gap']);
    const n = kv.has('n') ? integerValue(t, 'n', kv.get('n')!, 1) : SECTORS_DEFAULTS.n;
    const k = kv.has('k') ? integerValue(t, 'k', kv.get('k')!, 4) : SECTORS_DEFAULTS.k;
    const seed = kv.has('seed') ? integerValue(t, 'seed', kv.get('seed')!, Number.MIN_SAFE_INTEGER) : SECTORS_DEFAULTS.seed;
    let gap = SECTORS_DEFAULTS.gap;
    if (kv.has('gap')) {
      const g = kv.get('gap')!;
      gap = Number(g);
      if (!DECIMAL_RE.test(g) || !(gap >= 0 && gap < 0.5)) bad(t, `gap=${g} is not allowed: gap must be a number in [0, 0.5)`);
    }
    if (k % 2 !== 0) bad(t, `k=${k} is not allowed: k must be even (alternating labels around the circle)`);
    if (n < k) bad(t, `n=${n} is not allowed: n must be ≥ k = ${k}`);
    if (2 * n > SYNTHETIC_MAX_ENTRIES) bad(t, `n=${n} is not allowed: n must be ≤ ${SYNTHETIC_MAX_ENTRIES / 2} (2^27 generated inputs, 1 GiB of float64)`);
    return { kind: 'sectors', n, k, seed, gap };
  }
  if (t === 'mnist' || t.startsWith('mnist:')) {
    if (t === 'mnist' || t === 'mnist:') bad(t, 'name the digits: mnist:3,8 (binary) or mnist:all (10 classes)');
    const [list, ...opts] = t.slice('mnist:'.length).split(';');
    let digits: number[];
    if (list.trim() === 'all') {
      digits = [...ALL_DIGITS];
    } else {
      digits = list.split(',').map((s) => {
        const v = s.trim();
        if (!/^\d$/.test(v)) bad(t, `"${v}" is not a digit 0..9 (write mnist:3,8 or mnist:all)`);
        return Number(v);
      });
      try {
        validateMnistDigits(digits, `${FIELD} "${t}"`);
      } catch (e) {
        if (e instanceof InputError) throw new InputError(e.message, FIELD);
        throw e;
      }
    }
    const kv = keyValues(t, opts.join(';'), ';', ['per', 'offset']);
    const spec: { kind: 'mnist'; digits: number[]; perClass?: number; offset?: number } = { kind: 'mnist', digits };
    if (kv.has('per')) spec.perClass = integerValue(t, 'per', kv.get('per')!, 1);
    if (kv.has('offset')) spec.offset = integerValue(t, 'offset', kv.get('offset')!, 0);
    return spec;
  }
  const lower = t.toLowerCase();
  if (lower.endsWith('.json')) return { kind: 'file', path: t, format: 'json' };
  if (lower.endsWith('.csv')) return { kind: 'file', path: t, format: 'csv' };
  bad(t, `not a known data set or a .json/.csv file: ${USAGE}`);
}

/** Canonical text of a spec; `parseDataSpec(formatDataSpec(s))` describes the same data (an `offset` of 0 is left out). */
export function formatDataSpec(spec: DataSpec): string {
  switch (spec.kind) {
    case 's1':
      return spec.mirrored ? 's1' : 's1-unmirrored';
    case 's2':
      return spec.mirrored ? 's2-mirrored' : 's2';
    case 'synthetic':
      return `synthetic:n=${spec.n},d=${spec.d},margin=${spec.margin},seed=${spec.seed}`;
    case 'mnist':
      return mnistSpecText(spec);
    case 'sectors':
      return `sectors:n=${spec.n},k=${spec.k},seed=${spec.seed},gap=${spec.gap}`;
    case 'file':
      return spec.path;
  }
}

/** Sources needed by some built-in kinds. */
export interface BuiltinSources {
  /** Pixels for `mnist:` specs (in Node: `packageMnistSource()` from `src/node/load-data.ts`). */
  readonly mnist?: MnistSource;
}

/**
 * Build a data set that needs no file: S1, S2, synthetic, or MNIST (the latter only with
 * `sources.mnist`). Files are read by `loadData` in `src/node/load-data.ts`.
 */
export function loadBuiltinData(spec: BuiltinDataSpec, sources: BuiltinSources = {}): Dataset {
  switch (spec.kind) {
    case 's1':
      return s1({ mirrored: spec.mirrored });
    case 's2':
      return s2({ mirrored: spec.mirrored });
    case 'synthetic':
      return syntheticSeparable(spec);
    case 'sectors':
      return sectors(spec);
    case 'mnist':
      if (sources.mnist === undefined) {
        throw new InputError(`data "${mnistSpecText(spec)}": MNIST needs a pixel source (in Node, load it with loadData)`, FIELD);
      }
      return loadMnist(spec, sources.mnist);
    default: {
      const s = spec as DataSpec;
      throw new InputError(`data "${formatDataSpec(s)}": a ${s.kind} spec is not built in; read files with loadData`, FIELD);
    }
  }
}
