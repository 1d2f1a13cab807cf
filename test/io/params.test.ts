/**
 * Saved parameters: PyTorch-style exports (.npy, .safetensors, written by
 * scripts/fixtures/make_params_fixtures.py with numpy alone) give the outputs numpy computed; bad files
 * get one clear InputError naming the flag; result.json's params round-trip bit for bit; the trainer's
 * `start` option keeps a saved θ̂.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../src/errors.ts';
import { createModel, type ModelSpec } from '../../src/models/registry.ts';
import { parseNpy } from '../../src/io/npy.ts';
import { parseSafetensors } from '../../src/io/safetensors.ts';
import { paramsDocument, readParamsDocument, checkParamsMatch, thetaFromTensors, unitParams } from '../../src/io/params.ts';
import { loadParamsFile, paramsForModel, paramsSourceInfo } from '../../src/node/params-io.ts';
import { train } from '../../src/train/trainer.ts';
import { Rng } from '../../src/linalg/rng.ts';
import { TOL, assertClose } from '../support/tolerance.ts';

const DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'params');
const EXPECTED = JSON.parse(readFileSync(join(DIR, 'expected.json'), 'utf8')).fixtures as Record<string, { file: string; spec: ModelSpec; X: number[][]; f: number[][] }>;
const tmp = mkdtempSync(join(tmpdir(), 'advbias-params-'));
const FLAG = '--params';

/** Asserts that `fn` throws an InputError with field `flag` whose one-line message matches `pattern`. */
function assertInputError(fn: () => unknown, pattern: RegExp, flag = FLAG): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InputError, `expected InputError, got ${String(e)}`);
    assert.equal(e.field, flag);
    assert.doesNotMatch(e.message, /\n/, 'one line');
    assert.match(e.message, pattern);
    return true;
  });
}

// Each fixture: advbias's forward pass on the loaded θ equals numpy's f(X) (float64, sums of ≤ 20
// products in another order: a few roundings, TOL.closedForm = 1e-12).
for (const [key, fx] of Object.entries(EXPECTED)) {
  if (!('spec' in fx)) continue;
  test(`${key}: ${fx.file} loads onto ${fx.spec.kind} and gives numpy's outputs`, () => {
    const model = createModel(fx.spec);
    const loaded = loadParamsFile(join(DIR, fx.file), FLAG);
    assert.notEqual(loaded.format, 'result');
    if (loaded.format === 'result') return;
    const theta = thetaFromTensors(model, loaded.tensors, 'test', FLAG);
    assert.equal(theta.length, model.numParams);
    const ws = model.createWorkspace();
    const out = new Float64Array(model.outputDim);
    assert.ok(fx.X.length >= 3);
    fx.X.forEach((row, i) => {
      model.forward(theta, Float64Array.from(row), 0, out, ws);
      assert.equal(fx.f[i].length, model.outputDim);
      for (let k = 0; k < model.outputDim; k++) assertClose(out[k], fx.f[i][k], TOL.closedForm, `${key} f_${k}(x_${i})`);
    });
    // As a start for training or a measurement: θ̂ and log‖θ‖ give θ back up to a rounding.
    const { thetaUnit, logNorm } = paramsForModel(loaded, model, FLAG);
    for (let k = 0; k < theta.length; k++) assertClose(Math.exp(logNorm) * thetaUnit[k], theta[k], TOL.identity, `θ[${k}]`);
    const info = paramsSourceInfo(loaded);
    assert.equal(info.note !== undefined, loaded.dtypes.includes('float32'), 'float32 files say they were widened');
  });
}

test('float32 files are read as float32 and widened: the note names it', () => {
  for (const f of ['deep-linear-f32.safetensors', 'relu-mlp-flat-f32.npy']) {
    const loaded = loadParamsFile(join(DIR, f), FLAG);
    assert.ok(loaded.format !== 'result' && loaded.dtypes.every((d) => d === 'float32'), f);
    assert.match(String(paramsSourceInfo(loaded).note), /float32 .*widened to float64/);
    // Every value is a float32 (widening is exact).
    for (const t of loaded.tensors) for (const v of t.data) assert.equal(Math.fround(v), v);
  }
});

test('a Fortran-order .npy comes back row-major', () => {
  const a = parseNpy(readFileSync(join(DIR, 'fortran-2x3.npy')), 'test');
  const fx = EXPECTED['fortran-2x3'] as unknown as { shape: number[]; data: number[] };
  assert.equal(a.fortranOrder, true);
  assert.deepEqual(a.shape, fx.shape);
  assert.deepEqual(Array.from(a.data), fx.data);
});

test('bad parameter files: one InputError naming the flag, the file and what is allowed', () => {
  const dl = createModel({ kind: 'deep-linear', inputDim: 2, depth: 2, width: 3 });
  const load = (f: string) => loadParamsFile(join(DIR, f), FLAG);
  const tensors = (f: string) => {
    const l = load(f);
    assert.ok(l.format !== 'result');
    return l.tensors;
  };
  assertInputError(() => paramsForModel(load('deep-linear-bias.safetensors'), dl, FLAG), /advbias models are bias-free; the file has bias tensors "0\.bias" \[3\], "1\.bias" \[1\]/);
  assertInputError(() => load('deep-linear-f16.safetensors'), /tensor "0\.weight" has dtype F16.*allowed: F64, F32/);
  // Wrong width: the file's W1 is [3, 2], the model's [4, 2].
  const wide = createModel({ kind: 'deep-linear', inputDim: 2, depth: 2, width: 4 });
  assertInputError(() => paramsForModel(load('deep-linear.safetensors'), wide, FLAG), /tensor "0\.weight" .*shape \[3, 2\], the model's W1 needs \[4, 2\]/);
  // Wrong depth: 2 tensors for 3 layers.
  const deep = createModel({ kind: 'deep-linear', inputDim: 2, depth: 3, width: 3 });
  assertInputError(() => paramsForModel(load('deep-linear.safetensors'), deep, FLAG), /2 tensor\(s\).*needs deep-linear \(L = 3; W1 \[3, 2\], W2 \[3, 3\], W3 \[1, 3\]; 18 parameters\)/);
  // A flat vector of the wrong length.
  assertInputError(() => paramsForModel(load('relu-mlp-flat-f32.npy'), dl, FLAG), /"array" \[52\].*needs deep-linear/);
  // relu-cnn: only flat θ or a result.json.
  const cnn = createModel({ kind: 'relu-cnn', inputDim: 16, inputShape: [1, 4, 4], conv: [{ channels: 2, kernel: 3 }] });
  assertInputError(() => thetaFromTensors(cnn, tensors('deep-linear.safetensors'), 'x', FLAG), /relu-cnn parameters load from a result\.json or a flat vector/);
  // Names without a layer index.
  const renamed = tensors('deep-linear.safetensors').map((t, i) => ({ ...t, name: i === 0 ? 'head.weight' : t.name }));
  assertInputError(() => thetaFromTensors(dl, renamed, 'x', FLAG), /cannot tell the layer of tensor "head\.weight"/);
  // Files that cannot be read or are not parameter files.
  assertInputError(() => loadParamsFile(join(tmp, 'missing.safetensors'), FLAG), /missing\.safetensors.*no such file/);
  assertInputError(() => loadParamsFile(join(tmp, 'weights.pt'), FLAG), /unsupported file type "\.pt" \(allowed: a result\.json of advbias train, \.npy, \.safetensors/);
  const plain = join(tmp, 'plain.json');
  writeFileSync(plain, JSON.stringify({ X: [[1]], y: [1] }));
  assertInputError(() => loadParamsFile(plain, FLAG), /must be a result\.json of advbias train with a "params" field/);
});

test('damaged .safetensors and .npy bytes: truncated files and bad headers are named', () => {
  const st = new Uint8Array(readFileSync(join(DIR, 'deep-linear.safetensors')));
  const headerLen = Number(new DataView(st.buffer, st.byteOffset).getBigUint64(0, true));
  assertInputError(() => parseSafetensors(st.subarray(0, 5), 'f', FLAG), /fewer than the 8-byte header length \(truncated\?\)/);
  assertInputError(() => parseSafetensors(st.subarray(0, 8 + headerLen - 3), 'f', FLAG), /the header claims \d+ bytes but only \d+ follow \(truncated\?\)/);
  assertInputError(() => parseSafetensors(st.subarray(0, st.length - 8), 'f', FLAG), /data section has \d+ bytes \(truncated\?\)/);
  const garbled = st.slice();
  garbled[8] = 0x5b; // "[": the header is no longer a JSON object
  assertInputError(() => parseSafetensors(garbled, 'f', FLAG), /header is not valid UTF-8 JSON|not a JSON object/);
  const huge = st.slice();
  new DataView(huge.buffer).setBigUint64(0, 1n << 40n, true);
  assertInputError(() => parseSafetensors(huge, 'f', FLAG), /header length \d+ is larger than the format allows/);
  // A data section longer than the tensors: foreign bytes.
  const longer = new Uint8Array(st.length + 8);
  longer.set(st);
  assertInputError(() => parseSafetensors(longer, 'f', FLAG), /cover \d+ bytes but the data section has \d+/);

  const npy = new Uint8Array(readFileSync(join(DIR, 'deep-linear-flat.npy')));
  assertInputError(() => parseNpy(npy.subarray(0, npy.length - 1), 'f', FLAG), /needs 72 data bytes, the file has 71 \(truncated\?\)/);
  assertInputError(() => parseNpy(npy.subarray(0, 4), 'f', FLAG), /magic string/);
  const notNpy = npy.slice();
  notNpy[1] = 0x4f;
  assertInputError(() => parseNpy(notNpy, 'f', FLAG), /magic string/);
  const bigEndian = npy.slice();
  const at = Buffer.from(bigEndian).indexOf("'<f8'");
  bigEndian[at + 1] = '>'.charCodeAt(0);
  assertInputError(() => parseNpy(bigEndian, 'f', FLAG), /unsupported \.npy dtype ">f8" \(allowed: '<f8' float64, '<f4' float32/);
  const version = npy.slice();
  version[6] = 9;
  assertInputError(() => parseNpy(version, 'f', FLAG), /unsupported format version 9\.0/);
  const noShape = npy.slice();
  const s = Buffer.from(noShape).indexOf("'shape'");
  noShape[s + 1] = 'x'.charCodeAt(0);
  assertInputError(() => parseNpy(noShape, 'f', FLAG), /no 'shape' tuple/);
});

test('result.json params round-trip bit for bit through JSON text, and a mismatched model is named', () => {
  const model = createModel({ kind: 'relu-mlp', inputDim: 3, depth: 3, width: [4, 2], outputs: 3, leak: 0.1 });
  const rng = new Rng(7);
  const theta = model.init(rng, 1);
  // Awkward doubles: tiny, subnormal, and ones with 17 significant digits.
  theta[0] = 5e-324;
  theta[1] = 1.0000000000000002;
  theta[2] = -2.2250738585072014e-308;
  const { thetaUnit, logNorm } = unitParams(theta, 'x', FLAG);
  const text = JSON.stringify({ params: paramsDocument(model, thetaUnit, logNorm) });
  const back = readParamsDocument(JSON.parse(text).params, 'x', FLAG);
  assert.equal(back.theta.logNorm, logNorm);
  assert.deepEqual(new Uint8Array(back.theta.thetaUnit.buffer), new Uint8Array(thetaUnit.buffer), 'θ̂ bit for bit');
  checkParamsMatch(back, model, 'x', FLAG);
  const otherLeak = createModel({ kind: 'relu-mlp', inputDim: 3, depth: 3, width: [4, 2], outputs: 3, leak: 0 });
  assertInputError(() => checkParamsMatch(back, otherLeak, 'x', FLAG), /leak 0\.1 in the file, 0 for the model/);
  const otherWidth = createModel({ kind: 'relu-mlp', inputDim: 3, depth: 3, width: [4, 3], outputs: 3, leak: 0.1 });
  assertInputError(() => checkParamsMatch(back, otherWidth, 'x', FLAG), /saved parameters are for "relu-mlp" \(W1 \[4, 3\], W2 \[2, 4\], W3 \[3, 2\]\), the model needs relu-mlp \(L = 3; W1 \[4, 3\], W2 \[3, 4\], W3 \[3, 3\]; 33 parameters\)/);
  assertInputError(() => readParamsDocument({ ...JSON.parse(text).params, thetaUnit: [1, 2] }, 'x', FLAG), /thetaUnit has 2 entries, its layout 26/);
});

test('TrainOptions.start keeps a saved θ̂ bit for bit at any log-norm; a non-unit direction is normalized', () => {
  const model = createModel({ kind: 'deep-linear', inputDim: 2, depth: 2, width: 3 });
  const data = { name: 'tiny', n: 2, d: 2, X: new Float64Array([1, 0.5, -0.3, -1]), y: new Int32Array([1, -1]), binary: true, classes: 2 } as const;
  const base = { model, data, attack: { kind: 'none', p: Infinity, eps: 0, steps: 1, stepSize: 1, randomStart: false }, loss: 'exp', schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' }, batchSize: 0, initScale: 1, seed: 3, kkt: null } as const;
  const trained = train({ ...base, steps: 50 } as never);
  // log‖θ‖ = 800: θ itself would overflow float64.
  const again = train({ ...base, steps: 0, start: { thetaUnit: trained.thetaUnit, logNorm: 800 } } as never);
  assert.deepEqual(new Uint8Array(again.thetaUnit.buffer), new Uint8Array(trained.thetaUnit.buffer));
  assert.equal(again.logNorm, 800);
  assert.equal(again.final.logParameterNorm, 800);
  const doubled = trained.thetaUnit.map((v) => 2 * v);
  const fromDoubled = train({ ...base, steps: 0, start: { thetaUnit: doubled, logNorm: 1 } } as never);
  assertClose(fromDoubled.logNorm, 1 + Math.log(2), TOL.identity, 'log-norm');
  for (let k = 0; k < doubled.length; k++) assertClose(fromDoubled.thetaUnit[k], trained.thetaUnit[k], TOL.identity, `θ̂[${k}]`);
});
