import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: SCRATCH });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('train --json carries kkt in every row, the evaluation curve and γ̃ monotonicity', () => {
  const r = cli(['train', '--data', 'sectors', '--model', 'relu-mlp', '--width', '12', '--attack', 'fgsm', '--eps', '0.2', '--steps', '2000', '--init-scale', '0.3', '--kkt', 'all', '--eval-eps', '0.1,0.3', '--eval-restarts', '1', '--eval-steps', '5', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  for (const k of ['stationarity', 'complementarity', 'gradientCosine', 'examples', 'support', 'nnlsStationarity']) assert.ok(k in doc.final.kkt, k);
  assert.equal(doc.final.kkt.examples, 40);
  assert.ok(doc.final.kkt.stationarity > 0 && doc.final.kkt.stationarity < 1);
  assert.ok(doc.history.every((h: { kkt?: unknown }) => h.kkt !== undefined));
  assert.deepEqual(doc.evaluation.eps, [0, 0.1, 0.3]);
  assert.equal(doc.evaluation.attack, 'pgd');
  assert.equal(doc.evaluation.robustAccuracy[0], doc.final.trainAccuracy, 'ε = 0 is clean accuracy');
  assert.ok(doc.evaluation.robustAccuracy[2] <= doc.evaluation.robustAccuracy[1]);
  assert.ok(doc.run.monotonicity.firstSeparableStep !== null);
  const off = JSON.parse(cli(['train', '--data', 's2', '--steps', '10', '--kkt', 'off', '--json']).stdout);
  assert.equal(off.final.kkt, undefined);
  const bad = cli(['train', '--kkt', 'some']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--kkt "some"/);
  const badEval = cli(['train', '--eval-eps', '0.1,x']);
  assert.equal(badEval.code, 2);
  assert.match(badEval.stderr, /--eval-eps "x"/);
});
