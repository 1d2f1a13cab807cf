/**
 * Parsers for data files (JSON and CSV) and the matching writers.
 *
 * Library code: takes text, never touches the file system (reading lives in `src/node/load-data.ts`).
 * Every problem is reported as ONE `InputError` whose message names the file, the row (JSON: 1-based
 * row of X; CSV: 1-based line number of the file) and what is wrong, because the CLI prints it as a
 * single line to the user.
 */
import { InputError } from '../errors.ts';
import type { Dataset } from './dataset.ts';

/** How labels are read: `auto` decides from the values (see {@link ParseOptions.labels}). */
export type LabelMode = 'auto' | 'binary' | 'multiclass';

/** Options shared by {@link parseJsonDataset} and {@link parseCsvDataset}. */
export interface ParseOptions {
  /**
   * - `auto` (default): all labels in {−1, +1} → binary; all in {0, 1} → binary too (0 → −1, 1 → +1,
   *   the convention of most data sets with two classes), unless `classes` says there are more;
   *   otherwise integers 0..K−1 → K-class with K = max + 1 ≥ 2.
   * - `binary`: labels must all lie in {−1, +1}, or all in {0, 1} (then 0 → −1 and 1 → +1).
   * - `multiclass`: labels must be integers 0..K−1 with K = max + 1 ≥ 2.
   */
  readonly labels?: LabelMode;
  /** Required input dimension d (e.g. that of a model or a reference set); a mismatch is an error. */
  readonly expectDim?: number;
  /** What `expectDim` comes from, for the message ("the model"); default "the caller". */
  readonly expectDimFrom?: string;
  /**
   * K-class only: the number of classes K when some classes may be absent from this file
   * (a held-out split); must be ≥ max label + 1. Default max label + 1.
   */
  readonly classes?: number;
}

/**
 * Largest K accepted. A label column with larger values is almost surely a regression target or an
 * id column, not a class index; a model with that many outputs is never what was meant here.
 */
export const MAX_CLASSES = 1024;

/** A byte-order mark that some editors (and Excel's "CSV UTF-8") put in front of the text. */
const BOM = '\uFEFF';

/** Strict decimal number syntax: rejects "", "0x10", "1_0" and other forms `Number()` accepts. */
const NUMBER_RE = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Spellings of non-finite values that people write in CSV files (reported as non-finite). */
const NON_FINITE_RE = /^[+-]?(?:inf|infinity|nan)$/i;

function prefix(name: string): string {
  return `data file "${name}"`;
}

function fail(name: string, problem: string): never {
  throw new InputError(`${prefix(name)}: ${problem}`, name);
}

/** Short, one-line rendering of a JSON value for messages. */
function describeJsonValue(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 20 ? `${v.slice(0, 20)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** Short, one-line rendering of a CSV field for messages. */
/** "1 value", "3 values". */
function count(k: number, noun: string): string {
  return `${k} ${noun}${k === 1 ? '' : 's'}`;
}

function quoteField(s: string): string {
  return JSON.stringify(s.length > 20 ? `${s.slice(0, 20)}…` : s);
}

// ---------------------------------------------------------------------------------------------
// Label handling and dataset assembly (shared by both formats)
// ---------------------------------------------------------------------------------------------

/**
 * Turn raw label values into the Dataset's labels. `where(i)` names example i ("row 3", "line 7").
 * Non-integer and out-of-range values are reported at the FIRST offending example.
 */
function buildLabels(
  name: string,
  raw: Float64Array,
  where: (i: number) => string,
  options: ParseOptions,
): { y: Int32Array; binary: boolean; classes: number } {
  const mode = options.labels ?? 'auto';
  if (mode !== 'auto' && mode !== 'binary' && mode !== 'multiclass') {
    fail(name, `label mode "${String(mode)}" is not one of auto, binary, multiclass`);
  }
  const n = raw.length;
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (!Number.isInteger(v)) {
      fail(name, `${where(i)}: label ${v} is not an integer (labels are -1/+1 or class indices 0..K-1)`);
    }
  }
  let allPm = true;
  let all01 = true;
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (v !== 1 && v !== -1) allPm = false;
    if (v !== 0 && v !== 1) all01 = false;
  }
  const y = new Int32Array(n);
  // 0/1 read as binary needs both classes present (all 0 stays the one-class error below).
  const autoBinary = allPm || (all01 && raw.includes(0) && raw.includes(1) && (options.classes === undefined || options.classes === 2));
  if (mode === 'binary' || (mode === 'auto' && autoBinary)) {
    if (allPm) {
      for (let i = 0; i < n; i++) y[i] = raw[i];
    } else if (all01) {
      // 0/1 labels read as binary: 1 is the positive class.
      for (let i = 0; i < n; i++) y[i] = raw[i] === 1 ? 1 : -1;
    } else {
      // Name the first label that rules out both readings.
      let bad = 0;
      const first = raw[0];
      const pmFirst = first === 1 || first === -1;
      for (let i = 0; i < n; i++) {
        const v = raw[i];
        const ok = pmFirst ? v === 1 || v === -1 : v === 0 || v === 1;
        if (!ok) {
          bad = i;
          break;
        }
      }
      fail(name, `${where(bad)}: label ${raw[bad]} is not allowed: binary labels must all be -1/+1 (or all 0/1)`);
    }
    return { y, binary: true, classes: 2 };
  }
  let max = 0;
  for (let i = 0; i < n; i++) {
    const v = raw[i];
    if (v < 0) {
      const hint = mode === 'auto' ? ' (labels are either all -1/+1, or class indices 0..K-1)' : ' (class indices are 0..K-1)';
      fail(name, `${where(i)}: label ${v} is negative${hint}`);
    }
    if (v >= MAX_CLASSES) {
      fail(name, `${where(i)}: label ${v} is too large: class indices must be below ${MAX_CLASSES}`);
    }
    if (v > max) max = v;
  }
  let classes = max + 1;
  if (options.classes !== undefined) {
    const k = options.classes;
    if (!Number.isInteger(k) || k < 2 || k > MAX_CLASSES) {
      fail(name, `classes = ${k} is not allowed: use an integer in 2..${MAX_CLASSES}`);
    }
    if (k < classes) {
      const i = raw.findIndex((v) => v >= k);
      fail(name, `${where(i)}: label ${raw[i]} is not below classes = ${k}`);
    }
    classes = k;
  }
  if (classes < 2) {
    fail(name, `all labels are ${max}: a K-class set needs labels 0..K-1 with K >= 2`);
  }
  for (let i = 0; i < n; i++) y[i] = raw[i];
  return { y, binary: false, classes };
}

function dimMismatch(name: string, at: string, d: number, options: ParseOptions): never {
  fail(
    name,
    `${at} has d = ${d} features, but ${options.expectDimFrom ?? 'the caller'} expects d = ${options.expectDim}`,
  );
}

/**
 * Throw an `InputError` unless `data.d === expectDim` (for data sets that did not come through a
 * parser: built-ins, synthetic, MNIST). `from` names where the expected dimension comes from.
 */
export function checkExpectedDim(data: Dataset, expectDim: number | undefined, from = 'the caller'): void {
  if (expectDim === undefined || data.d === expectDim) return;
  throw new InputError(`data "${data.name}" has d = ${data.d} features, but ${from} expects d = ${expectDim}`, data.name);
}

// ---------------------------------------------------------------------------------------------
// JSON
// ---------------------------------------------------------------------------------------------

type JsonState = 'value' | 'valueOrClose' | 'keyOrClose' | 'key' | 'colon' | 'commaOrClose' | 'end';

/** JSON number syntax (RFC 8259), anchored at lastIndex. */
const JSON_NUMBER_RE = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;

/**
 * Find where JSON text stops being valid: offset and what was expected there.
 * Only called after `JSON.parse` failed, because V8's messages differ between versions, sometimes
 * carry no position and embed (possibly multi-line) pieces of the text. Iterative (explicit stack)
 * so that absurdly deep nesting cannot overflow the call stack.
 */
function locateJsonError(text: string): { pos: number; problem: string } | null {
  const stack: ('array' | 'object')[] = [];
  let i = 0;
  let state: JsonState = 'value';
  const found = (j: number): string => (j >= text.length ? 'end of input' : JSON.stringify(text[j]));
  const afterValue = (): JsonState => (stack.length > 0 ? 'commaOrClose' : 'end');
  const scanString = (start: number): { end: number } | { pos: number; problem: string } => {
    let j = start + 1;
    for (;;) {
      if (j >= text.length) return { pos: j, problem: 'unterminated string' };
      const c = text.charCodeAt(j);
      if (c === 0x22) return { end: j + 1 };
      if (c < 0x20) return { pos: j, problem: 'control character inside a string' };
      if (c === 0x5c) {
        const e = text[j + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(text.slice(j + 2, j + 6))) return { pos: j, problem: 'invalid \\u escape' };
          j += 6;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          j += 2;
        } else {
          return { pos: j, problem: 'invalid escape in a string' };
        }
        continue;
      }
      j++;
    }
  };
  for (;;) {
    while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
    const c = text[i];
    switch (state) {
      case 'valueOrClose':
      case 'value': {
        if (state === 'valueOrClose' && c === ']') {
          stack.pop();
          i++;
          state = afterValue();
          break;
        }
        if (c === '{') {
          stack.push('object');
          i++;
          state = 'keyOrClose';
        } else if (c === '[') {
          stack.push('array');
          i++;
          state = 'valueOrClose';
        } else if (c === '"') {
          const r = scanString(i);
          if ('pos' in r) return r;
          i = r.end;
          state = afterValue();
        } else if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
          JSON_NUMBER_RE.lastIndex = i;
          const m = JSON_NUMBER_RE.exec(text);
          if (m === null) return { pos: i, problem: 'invalid number' };
          i += m[0].length;
          state = afterValue();
        } else if (text.startsWith('true', i) || text.startsWith('null', i)) {
          i += 4;
          state = afterValue();
        } else if (text.startsWith('false', i)) {
          i += 5;
          state = afterValue();
        } else {
          return { pos: i, problem: `expected a value, found ${found(i)}` };
        }
        break;
      }
      case 'keyOrClose':
      case 'key': {
        if (state === 'keyOrClose' && c === '}') {
          stack.pop();
          i++;
          state = afterValue();
          break;
        }
        if (c !== '"') return { pos: i, problem: `expected a quoted field name, found ${found(i)}` };
        const r = scanString(i);
        if ('pos' in r) return r;
        i = r.end;
        state = 'colon';
        break;
      }
      case 'colon':
        if (c !== ':') return { pos: i, problem: `expected ':', found ${found(i)}` };
        i++;
        state = 'value';
        break;
      case 'commaOrClose': {
        const top = stack[stack.length - 1];
        const close = top === 'array' ? ']' : '}';
        if (c === ',') {
          i++;
          state = top === 'array' ? 'value' : 'key';
        } else if (c === close) {
          stack.pop();
          i++;
          state = afterValue();
        } else {
          return { pos: i, problem: `expected ',' or '${close}', found ${found(i)}` };
        }
        break;
      }
      case 'end':
        if (i >= text.length) return null;
        return { pos: i, problem: `unexpected ${found(i)} after the end of the JSON value` };
    }
  }
}

function lineAndColumn(text: string, pos: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  for (let j = 0; j < pos && j < text.length; j++) {
    if (text[j] === '\n') {
      line++;
      lineStart = j + 1;
    }
  }
  return { line, column: pos - lineStart + 1 };
}

/**
 * Parse a JSON data set `{"X": number[][], "y": number[]}` (other fields are ignored).
 *
 * X has n rows of d numbers (x_i ∈ R^d), y has n labels (see {@link ParseOptions.labels}).
 * `name` (usually the file path) becomes `Dataset.name` and is named in every error.
 * Errors (one `InputError` line each): invalid JSON (line, column and offset), X or y missing or
 * not arrays, empty data set, d = 0, ragged rows, non-numeric or non-finite values, labels outside
 * the allowed set, length mismatch between X and y, d ≠ `expectDim`.
 */
export function parseJsonDataset(text: string, name: string, options: ParseOptions = {}): Dataset {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch (e) {
    const loc = locateJsonError(body);
    if (loc !== null) {
      const { line, column } = lineAndColumn(body, loc.pos);
      fail(name, `invalid JSON at line ${line}, column ${column} (offset ${loc.pos}): ${loc.problem}`);
    }
    // Unreachable unless V8 and the locator disagree; keep V8's text on one line.
    fail(name, `invalid JSON: ${String((e as Error).message).replace(/\s+/g, ' ')}`);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    fail(name, `expected a JSON object {"X": [[...], ...], "y": [...]}, got ${describeJsonValue(doc)}`);
  }
  const obj = doc as Record<string, unknown>;
  for (const field of ['X', 'y']) {
    if (!(field in obj)) fail(name, `field "${field}" is missing (expected {"X": [[...], ...], "y": [...]})`);
    if (!Array.isArray(obj[field])) fail(name, `field "${field}" must be an array, got ${describeJsonValue(obj[field])}`);
  }
  const Xrows = obj.X as unknown[];
  const yRaw = obj.y as unknown[];
  const n = Xrows.length;
  if (n === 0) fail(name, 'empty data set: "X" has no rows');
  if (yRaw.length !== n) fail(name, `"X" has ${count(n, 'row')} but "y" has ${count(yRaw.length, 'label')}`);

  const first = Xrows[0];
  if (!Array.isArray(first)) fail(name, `row 1 of "X" must be an array of numbers, got ${describeJsonValue(first)}`);
  const d = first.length;
  if (d === 0) fail(name, 'row 1 of "X" is empty: inputs need at least one feature (d = 0)');
  if (options.expectDim !== undefined && d !== options.expectDim) dimMismatch(name, 'row 1', d, options);

  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    const row = Xrows[i];
    if (!Array.isArray(row)) fail(name, `row ${i + 1} of "X" must be an array of numbers, got ${describeJsonValue(row)}`);
    if (row.length !== d) fail(name, `row ${i + 1} has ${count(row.length, 'value')}, expected ${d}`);
    for (let j = 0; j < d; j++) {
      const v = row[j];
      if (typeof v !== 'number') fail(name, `row ${i + 1}, column ${j + 1}: expected a number, got ${describeJsonValue(v)}`);
      // JSON has no NaN/Infinity literals, but a literal such as 1e999 parses to Infinity.
      if (!Number.isFinite(v)) fail(name, `row ${i + 1}, column ${j + 1}: value is not finite (overflows float64)`);
      X[i * d + j] = v;
    }
  }
  const labels = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = yRaw[i];
    if (typeof v !== 'number') fail(name, `row ${i + 1}: label must be a number, got ${describeJsonValue(v)}`);
    labels[i] = v;
  }
  const { y, binary, classes } = buildLabels(name, labels, (i) => `row ${i + 1}`, options);
  return { name, n, d, X, y, binary, classes };
}

// ---------------------------------------------------------------------------------------------
// CSV
// ---------------------------------------------------------------------------------------------

/** Trim whitespace and one pair of surrounding double quotes (spreadsheet exports quote fields). */
function cleanField(raw: string): string {
  const t = raw.trim();
  return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
}

function isNumericLike(field: string): boolean {
  return NUMBER_RE.test(field) || NON_FINITE_RE.test(field);
}

/**
 * Parse a CSV data set: comma-separated, one example per line, the LAST column is the label and
 * the others are x_i ∈ R^d (d = columns − 1).
 *
 * Whitespace around fields is trimmed and blank lines are ignored. The first non-blank line is a
 * header, and skipped, only if every one of its fields is non-numeric; a header must have as many
 * names as the data rows have values. Numbers use plain decimal syntax (`1`, `-0.5`, `1e-3`);
 * hexadecimal, empty fields, NaN and Infinity are errors. Errors name the 1-based LINE of the file.
 * See {@link parseJsonDataset} for the list of errors and {@link ParseOptions} for the labels.
 */
export function parseCsvDataset(text: string, name: string, options: ParseOptions = {}): Dataset {
  const body = text.startsWith(BOM) ? text.slice(1) : text;
  const lines = body.split(/\r\n|\n|\r/);
  let cols = -1;
  let headerLine = 0;
  let seenContent = false;
  const values: number[] = [];
  const labels: number[] = [];
  const lineOf: number[] = [];
  for (let k = 0; k < lines.length; k++) {
    const lineNo = k + 1;
    const line = lines[k];
    if (line.trim() === '') continue;
    const fields = line.split(',').map(cleanField);
    if (!seenContent) {
      seenContent = true;
      if (fields.every((f) => f !== '' && !isNumericLike(f))) {
        headerLine = lineNo;
        cols = fields.length;
        if (cols < 2) {
          const hint = /[;\t]/.test(line) ? ' (fields must be separated by commas)' : '';
          fail(name, `line ${lineNo}: the header has only 1 column: need at least one feature and a label (d = 0)${hint}`);
        }
        continue;
      }
    }
    if (cols < 0) {
      cols = fields.length;
      if (cols < 2) {
        const hint = /[;\t]/.test(line) ? ' (fields must be separated by commas)' : '';
        fail(name, `line ${lineNo} has only 1 value: need at least one feature and a label (d = 0)${hint}`);
      }
    } else if (fields.length !== cols) {
      const why =
        headerLine > 0 && lineOf.length === 0
          ? ` (the header on line ${headerLine} has ${cols} names)`
          : /[;\t]/.test(line)
            ? ' (fields must be separated by commas)'
            : '';
      fail(name, `line ${lineNo} has ${count(fields.length, 'value')}, expected ${cols}${why}`);
    }
    if (lineOf.length === 0 && options.expectDim !== undefined && cols - 1 !== options.expectDim) {
      dimMismatch(name, `line ${lineNo}`, cols - 1, options);
    }
    for (let j = 0; j < cols; j++) {
      const f = fields[j];
      const what = j === cols - 1 ? 'label (last column)' : `column ${j + 1}`;
      if (f === '') fail(name, `line ${lineNo}, ${what}: empty value`);
      if (!NUMBER_RE.test(f)) {
        if (NON_FINITE_RE.test(f)) fail(name, `line ${lineNo}, ${what}: value ${quoteField(f)} is not finite`);
        let hint = '';
        if (lineOf.length === 0 && headerLine === 0) hint = ' (a header row must be entirely non-numeric)';
        else if (/[;\t]/.test(f)) hint = ' (fields must be separated by commas)';
        fail(name, `line ${lineNo}, ${what}: ${quoteField(f)} is not a number${hint}`);
      }
      const v = Number(f);
      if (!Number.isFinite(v)) fail(name, `line ${lineNo}, ${what}: value ${quoteField(f)} is not finite (overflows float64)`);
      if (j === cols - 1) labels.push(v);
      else values.push(v);
    }
    lineOf.push(lineNo);
  }
  const n = lineOf.length;
  if (n === 0) {
    fail(name, headerLine > 0 ? `empty data set: no data rows after the header on line ${headerLine}` : 'empty data set: no data rows');
  }
  const d = cols - 1;
  const X = Float64Array.from(values);
  const { y, binary, classes } = buildLabels(name, Float64Array.from(labels), (i) => `line ${lineOf[i]}`, options);
  return { name, n, d, X, y, binary, classes };
}

// ---------------------------------------------------------------------------------------------
// Writers
// ---------------------------------------------------------------------------------------------

/** Shortest text that reads back to the same float64 (keeps the sign of −0). */
function formatNumber(v: number): string {
  return Object.is(v, -0) ? '-0' : String(v);
}

/**
 * Serialize a data set as JSON `{"X": [[...]], "y": [...]}`, one row per line. Numbers are written
 * in their shortest round-trip form, so {@link parseJsonDataset} gives back bit-identical X and y
 * (and the same `binary`/`classes` when every class 0..K−1 occurs, or with `options.classes`).
 */
export function datasetToJson(data: Dataset): string {
  const rows: string[] = [];
  for (let i = 0; i < data.n; i++) {
    const r: string[] = [];
    for (let j = 0; j < data.d; j++) r.push(formatNumber(data.X[i * data.d + j]));
    rows.push(`  [${r.join(', ')}]`);
  }
  return `{"X": [\n${rows.join(',\n')}\n],\n"y": [${Array.from(data.y).join(', ')}]}\n`;
}

/**
 * Serialize a data set as CSV with a header `x1,…,xd,y` and the label in the last column; reads back
 * bit-identically with {@link parseCsvDataset}.
 */
export function datasetToCsv(data: Dataset): string {
  const out: string[] = [];
  const header: string[] = [];
  for (let j = 0; j < data.d; j++) header.push(`x${j + 1}`);
  header.push('y');
  out.push(header.join(','));
  for (let i = 0; i < data.n; i++) {
    const r: string[] = [];
    for (let j = 0; j < data.d; j++) r.push(formatNumber(data.X[i * data.d + j]));
    r.push(String(data.y[i]));
    out.push(r.join(','));
  }
  return `${out.join('\n')}\n`;
}
