/**
 * The package as a user gets it: `import … from 'advbias'` with plain Node (no tsx) resolves through
 * package.json `exports` to the built JS and .d.ts in dist/, and every script in examples/ runs and
 * prints the numbers the theory predicts.
 */
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBuilt, plainNodeEnv, ROOT } from './built.ts';
import { assertClose, TOL } from '../support/tolerance.ts';

/** docs/THEORY.md §8: the (B) direction of S2 at p = ∞, ε = 0.25 is atan(1/3). */
const S2_B_ANGLE_DEG = (Math.atan(1 / 3) * 180) / Math.PI;

before(() => ensureBuilt());

/** Runs `node FILE ARGS` (no loader) in the repository root and returns stdout. */
function runNode(args: string[]): string {
  return execFileSync(process.execPath, args, { cwd: ROOT, env: plainNodeEnv(), encoding: 'utf8', timeout: 60_000 });
}

function runExample(name: string): Record<string, unknown> {
  const out = runNode([join('examples', name), '--json']).trim().split('\n');
  return JSON.parse(out[out.length - 1]) as Record<string, unknown>;
}

test('package.json exports point at the built JS and declarations', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.exports, { '.': { types: './dist/index.d.ts', import: './dist/index.js' } });
  assert.equal(pkg.types, './dist/index.d.ts');
  for (const file of ['dist/index.js', 'dist/index.d.ts', 'dist/index.js.map', 'dist/train/step.d.ts', 'dist/linalg/wasm/kernels-wasm.generated.js'])
    assert.ok(existsSync(join(ROOT, file)), `${file} is built`);
  // The bundled CLI (bin/advbias.mjs runs it while it is current) sits beside the library, which
  // does not import it or the Node-only modules.
  assert.ok(existsSync(join(ROOT, 'dist', 'cli', 'main.js')) && existsSync(join(ROOT, 'dist', 'cli', 'run-worker.js')) && existsSync(join(ROOT, 'dist', '.build-stamp')), 'dist/cli/ holds the bundled CLI and its worker, dist/ the build stamp');
  assert.ok(!existsSync(join(ROOT, 'dist', 'node')), 'the Node-only modules are not compiled into the library');
  // Relative imports were rewritten from .ts to .js.
  const index = readFileSync(join(ROOT, 'dist', 'index.js'), 'utf8');
  assert.doesNotMatch(index, /from ["']\.\/(cli|node)\//);
  assert.match(index, /from ["']\.\/train\/trainer\.js["']/);
  assert.doesNotMatch(index, /from ["'][^"']*\.ts["']/);
});

test("plain Node imports 'advbias' and finds the public names", () => {
  const names = JSON.parse(runNode(['--input-type=module', '-e', "import * as a from 'advbias'; console.log(JSON.stringify(Object.keys(a)))"])) as string[];
  for (const name of [
    'train', 'trainAsync', 'TrainingRun', 'createStepper', 'createSchedule', 'baseRate', 'sphereCoefficient', 'solve', 'referenceFor',
    'createModel', 'createAttack', 'validateAttackConfig', 'logLossAndWeights', 'Rng', 's1', 's2', 'sectors', 'syntheticSeparable',
    'parseJsonDataset', 'parseCsvDataset', 'parseDataSpec', 'Measurer', 'kktResiduals', 'deepLinearAlignment', 'directionError',
    'robustAccuracyCurve', 'stringifyExact', 'parseExact', 'InputError', 'AdvbiasError', 'NonFiniteError', 'useWasmKernels', 'kernels',
  ])
    assert.ok(names.includes(name), `advbias exports ${name}`);
});

test('every example is exercised here', () => {
  const examples = readdirSync(join(ROOT, 'examples')).filter((f) => f.endsWith('.mjs')).sort();
  assert.deepEqual(examples, ['custom-loop.mjs', 'relu-sectors.mjs', 's2-deep-linear.mjs']);
});

test('examples/s2-deep-linear.mjs: depth 3, exact ℓ∞, ε = 0.25 reaches the solver direction 18.4349° and γ̄ → L^{−L/2}γ*', () => {
  const r = runExample('s2-deep-linear.mjs');
  assert.equal(r.solverStatus, 'optimal');
  assertClose(r.solverAngleDeg as number, S2_B_ANGLE_DEG, TOL.directionDegrees, 'solver angle');
  assert.ok(Math.abs((r.trainedAngleDeg as number) - S2_B_ANGLE_DEG) <= TOL.trainedDirectionDegrees, `trained angle ${r.trainedAngleDeg}° vs ${S2_B_ANGLE_DEG}°`);
  assert.ok((r.directionErrorDeg as number) <= TOL.trainedDirectionDegrees, `direction error ${r.directionErrorDeg}°`);
  assertClose(r.normalizedMargin as number, r.predictedMargin as number, TOL.trainedMargin, 'γ̄ against L^{−L/2}γ*(ε)');
  assertClose(r.predictedMargin as number, 0.15215, 1e-5 / 0.15215, 'L^{−L/2}γ*(ε) as the README states it (5 digits)');
  assert.equal(r.steps, 20000);
});

test('examples/custom-loop.mjs: a loop over step(state, batch) ends exactly where train does', () => {
  const r = runExample('custom-loop.mjs');
  assert.equal(r.steps, 300);
  assert.equal(r.maxDifferenceFromTrain, 0);
  assert.equal(r.logRhoDifferenceFromTrain, 0);
  assert.equal(r.startUnchanged, true);
  const logLoss = r.logLossEvery100 as number[];
  assert.equal(logLoss.length, 3);
  for (let k = 1; k < logLoss.length; k++) assert.ok(logLoss[k] < logLoss[k - 1], `batch log-loss falls: ${logLoss.join(', ')}`);
});

test('examples/relu-sectors.mjs: FGSM training of a ReLU net separates sectors robustly, with the wasm kernels from the built JS', () => {
  const r = runExample('relu-sectors.mjs');
  assert.equal(r.kernels, 'wasm');
  assert.equal(r.steps, 3000);
  assert.equal(r.trainAccuracy, 1);
  assert.equal(r.robustAccuracy, 1);
  assert.ok((r.normalizedMarginStart as number) < 0 && (r.normalizedMarginEnd as number) > 0, `γ̄ ${r.normalizedMarginStart} → ${r.normalizedMarginEnd}`);
  assert.deepEqual(r.pgdEps, [0, 0.1, 0.2]);
  assert.deepEqual(r.pgdAccuracy, [1, 1, 1]);
  assert.equal(typeof r.firstSeparableStep, 'number');
});
