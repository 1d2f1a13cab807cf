/**
 * `advbias solve --problem interpolation-norm` (claim C3's reference problem) through the real
 * program: the JSON document, the text report, and the exit codes of bad flags.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const DEG = 180 / Math.PI;

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: SCRATCH });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const BASE = ['solve', '--data', 's2', '--problem', 'interpolation-norm'];

test('solve --problem interpolation-norm --json: documented fields, S2 diagonal L = 2, p = 2, ε = 0.75 at 16.8744943°', () => {
  const r = cli([...BASE, '--architecture', 'diagonal', '--depth', '2', '--p', '2', '--eps', '0.75', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  for (const k of ['problem', 'direction', 'margin', 'multipliers', 'kkt', 'status', 'solver', 'architecture', 'depth', 'local', 'crossCheck']) assert.ok(k in doc, `field ${k}`);
  assert.equal(doc.problem, 'interpolation-norm');
  assert.equal(doc.status, 'optimal');
  assert.equal(doc.solver, 'scs');
  assert.equal(doc.architecture, 'diagonal');
  assert.equal(doc.depth, 2);
  assert.equal(doc.p, '2');
  assert.equal(doc.eps, 0.75);
  assert.equal(doc.data, 's2');
  const angle = Math.atan2(doc.direction[1], doc.direction[0]) * DEG;
  assert.ok(Math.abs(angle - 16.8744942979442939) <= 1e-6, `angle ${angle}`);
  assert.ok(Math.abs(1 / doc.margin - 3.5424208679177969) <= 1e-8 * 3.55, `1/margin ${1 / doc.margin}`);
  for (const k of ['primalFeasibility', 'dualFeasibility', 'complementarity', 'stationarity']) assert.equal(typeof doc.kkt[k], 'number', `kkt.${k}`);
  assert.ok(doc.kkt.stationarity <= 1e-8, `stationarity ${doc.kkt.stationarity}`);
  assert.equal(doc.multipliers.length, 2);
  assert.ok(Array.isArray(doc.local) && doc.local.length === 1, 'one local solution at L = 2');
  const best = doc.local[0];
  for (const k of ['best', 'direction', 'beta', 'objective', 'margin', 'kkt', 'starts']) assert.ok(k in best, `local[0].${k}`);
  assert.equal(best.best, true);
  assert.deepEqual(best.direction, doc.direction);
  assert.deepEqual(best.beta, doc.beta);
  assert.equal(best.margin, doc.margin);
  assert.ok(Math.abs(best.objective * best.margin - 1) <= 1e-12);
  assert.deepEqual(Object.keys(best.kkt).sort(), ['complementarity', 'stationarity']);
  assert.deepEqual(best.starts, [0]);
  const cc = doc.crossCheck;
  for (const k of ['solver', 'objective', 'lowerBound', 'relativeObjectiveGap', 'directionGap', 'message']) assert.ok(k in cc, `crossCheck.${k}`);
  assert.equal(cc.solver, 'highs-cutting-plane');
  assert.ok(cc.relativeObjectiveGap <= 1e-6, `cross-check gap ${cc.relativeObjectiveGap}`);
  assert.ok(cc.lowerBound <= best.objective * (1 + 1e-9) && best.objective <= cc.objective * (1 + 1e-9), 'lowerBound ≤ N* ≤ cutting-plane objective');
});

test('solve --problem interpolation-norm, diagonal L = 2, p ∈ {∞, 1} on synthetic 150 × 30: the HiGHS LP, cross-checked by GLPK, at the cvxopt value', () => {
  const fixture = JSON.parse(readFileSync(join(ROOT, 'test/fixtures/interpolation-norm/synthetic-n150-d30.lp.json'), 'utf8')) as { problems: { p: string; fraction: number; eps: number; value: number }[] };
  for (const pr of fixture.problems.filter((x) => x.fraction === 0.5)) {
    const args = ['solve', '--data', 'synthetic:n=150,d=30,margin=0.1,seed=2', '--problem', 'interpolation-norm', '--architecture', 'diagonal', '--depth', '2', '--p', pr.p, '--eps', String(pr.eps), '--json'];
    const r = cli(args);
    assert.equal(r.code, 0, r.stderr);
    const doc = JSON.parse(r.stdout);
    assert.equal(doc.status, 'optimal', doc.message);
    assert.equal(doc.solver, 'highs');
    assert.equal(doc.crossCheck.solver, 'glpk-lp');
    assert.ok(doc.crossCheck.relativeObjectiveGap <= 1e-9, `GLPK gap ${doc.crossCheck.relativeObjectiveGap}`);
    // cvxopt's value (tolerance as in test/solvers/interpolation-norm.test.ts: conelp at 1e-9).
    assert.ok(Math.abs(1 / doc.margin - pr.value) / pr.value <= 1e-7, `p = ${pr.p}: 1/margin ${1 / doc.margin} vs cvxopt ${pr.value}`);
    assert.equal(doc.direction.length, 30);
    assert.equal(doc.multipliers.length, 150);
    const text = cli(args.slice(0, -1));
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /cross-check {2}glpk-lp: objective/);
  }
});

test('solve --problem interpolation-norm (text): L = 4 lists both local solutions, best first', () => {
  const r = cli([...BASE, '--architecture', 'diagonal', '--depth', '4', '--p', '1', '--eps', '0.75']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /min ‖β‖_\{2\/4\} s\.t\. .*\(diagonal, depth 4, non-convex\)/);
  assert.match(r.stdout, /\* #1 +N 4\.0000000\d* .*angle 0\.000000°/);
  assert.match(r.stdout, /  #2 +N 5\.33333333\d* .*angle 45\.000000°/);
});

test('solve --problem interpolation-norm: bad flags exit 2 with one line naming the flag; ε ≥ γ_q* exits 1', () => {
  for (const [args, pattern] of [
    [['--architecture', 'diag', '--depth', '2', '--p', '2', '--eps', '0.75'], /--architecture/],
    [['--depth', '2', '--p', '2', '--eps', '0.75'], /needs --architecture/],
    [['--architecture', 'diagonal', '--depth', '1', '--p', '2', '--eps', '0.75'], /--depth "1"/],
  ] as [string[], RegExp][]) {
    const b = cli([...BASE, ...args]);
    assert.equal(b.code, 2, `${args.join(' ')}: exit ${b.code}, stderr ${b.stderr}`);
    assert.equal(b.stderr.trim().split('\n').length, 1, b.stderr);
    assert.match(b.stderr, pattern);
    assert.equal(b.stdout, '');
  }
  const other = cli(['solve', '--data', 's2', '--problem', 'adversarial-svm', '--eps', '0.25', '--depth', '2']);
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /--depth is for --problem interpolation-norm only/);
  const tooLarge = cli([...BASE, '--architecture', 'conv', '--p', '2', '--eps', '2', '--json']);
  assert.equal(tooLarge.code, 1, tooLarge.stderr);
  const doc = JSON.parse(tooLarge.stdout);
  assert.equal(doc.status, 'eps-too-large');
  assert.equal(doc.direction, null);
  assert.deepEqual(doc.local, []);
});
