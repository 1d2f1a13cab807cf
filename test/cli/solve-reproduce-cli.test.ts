import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
const tmp = mkdtempSync(join(tmpdir(), 'advbias-cli3-'));

function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: SCRATCH });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

test('solve --json: the documented fields; S2 answers of docs/THEORY.md §8', () => {
  const r = cli(['solve', '--data', 's2', '--problem', 'adversarial-svm', '--p', 'inf', '--eps', '0.25', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  for (const k of ['problem', 'direction', 'margin', 'multipliers', 'kkt', 'status', 'solver']) assert.ok(k in doc, k);
  assert.equal(doc.status, 'optimal');
  const angle = (Math.atan2(doc.direction[1], doc.direction[0]) * 180) / Math.PI;
  assert.ok(Math.abs(angle - (Math.atan(1 / 3) * 180) / Math.PI) < 1e-6, `angle ${angle}`);
  assert.ok(Math.abs(doc.margin - Math.hypot(0.75, 0.25)) < 1e-9);
  const th = JSON.parse(cli(['solve', '--data', 's2', '--problem', 'threshold', '--p', '1', '--json']).stdout);
  assert.ok(Math.abs(th.margin - 1.5) < 1e-12, 'γ_∞* = 1.5 holds in "margin"');
  const svm = JSON.parse(cli(['solve', '--data', 's2', '--problem', 'svm', '--q', '2', '--json']).stdout);
  assert.ok(Math.abs(svm.margin - Math.sqrt(5) / 2) < 1e-12);
});

test('solve: ε ≥ γ_q* gives status eps-too-large (exit 1), bad input exit 2 with one line', () => {
  const r = cli(['solve', '--data', 's2', '--problem', 'adversarial-svm', '--p', 'inf', '--eps', '1', '--json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.status, 'eps-too-large');
  assert.equal(doc.direction, null);
  for (const [args, pattern] of [
    [['--problem', 'nope'], /--problem "nope"/],
    [['--problem', 'adversarial-svm'], /needs --eps/],
    [['--problem', 'svm', '--q', '0.5'], /--q "0\.5"/],
    [['--problem', 'adversarial-svm', '--eps', '-1'], /--eps "-1"/],
    [['--problem', 'svm', '--p', '2'], /takes --q/],
  ] as [string[], RegExp][]) {
    const b = cli(['solve', '--data', 's2', ...args]);
    assert.equal(b.code, 2, `${args.join(' ')}: ${b.stderr}`);
    assert.equal(b.stderr.trim().split('\n').length, 1);
    assert.match(b.stderr, pattern);
  }
  const bad = join(tmp, 'inseparable.json');
  writeFileSync(bad, JSON.stringify({ X: [[1, 1], [1, 1]], y: [1, -1] }));
  const ns = cli(['solve', '--data', bad, '--problem', 'svm', '--json']);
  assert.equal(ns.code, 1);
  assert.equal(JSON.parse(ns.stdout).status, 'not-separable');
});

test('train --reference auto records the direction error to the adversarial SVM; ε ≥ γ_q* is refused unless overridden', () => {
  const r = cli(['train', '--data', 's2', '--model', 'deep-linear', '--depth', '2', '--attack', 'exact', '--p', '1', '--eps', '0.25', '--steps', '5000', '--reference', 'auto', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.run.reference.problem, 'adversarial-svm');
  const target = (Math.atan(0.5 / 0.75) * 180) / Math.PI; // 33.6901°
  const angle = (Math.atan2(doc.run.reference.direction[1], doc.run.reference.direction[0]) * 180) / Math.PI;
  assert.ok(Math.abs(angle - target) < 1e-6);
  assert.ok(doc.history.every((h: { referenceAngleDeg: number }) => typeof h.referenceAngleDeg === 'number'));
  assert.ok(doc.final.referenceAngleDeg < 0.01, `${doc.final.referenceAngleDeg}`);
  const refused = cli(['train', '--data', 's2', '--model', 'linear', '--attack', 'exact', '--p', 'inf', '--eps', '1', '--steps', '10']);
  assert.equal(refused.code, 2);
  assert.match(refused.stderr, /ε = 1 ≥ γ_q\* = 1\.0+ \(p = inf\).*--allow-inseparable/);
  const forced = cli(['train', '--data', 's2', '--model', 'linear', '--attack', 'exact', '--p', 'inf', '--eps', '1', '--steps', '10', '--allow-inseparable', '--json']);
  assert.equal(forced.code, 0, forced.stderr);
  const noRef = cli(['train', '--data', 's2', '--model', 'relu-mlp', '--steps', '10', '--reference', 'auto']);
  assert.equal(noRef.code, 2);
  assert.match(noRef.stderr, /no reference direction for model "relu-mlp"/);
});

test('reproduce: a passing and a failing experiment from a folder; figures, tables and summary are written', () => {
  const dir = join(tmp, 'experiments');
  mkdirSync(dir, { recursive: true });
  const common = {
    claim: 'C1',
    title: 'small',
    description: 'a small experiment',
    base: { data: 's2', model: 'deep-linear', depth: 2, width: 4, attack: 'exact', p: 'inf', eps: 0.25, steps: 4000 },
    figures: [{ kind: 'trace', id: 'direction-error', title: 'direction error', metric: 'referenceAngleDeg', yScale: 'log' }],
  };
  writeFileSync(join(dir, 'small-ok.json'), JSON.stringify({ ...common, id: 'small-ok', expectations: [{ id: 'dir', description: 'direction within 0.1°', metric: 'referenceAngleDeg', op: '<', value: 0.1 }] }));
  writeFileSync(join(dir, 'small-fail.json'), JSON.stringify({ ...common, id: 'small-fail', expectations: [{ id: 'dir', description: 'impossible', metric: 'referenceAngleDeg', op: '<', value: 0 }] }));
  const out = join(tmp, 'report');
  const ok = cli(['reproduce', 'small-ok', '--experiments', dir, '--out', out, '--store', join(tmp, 'store.sqlite')]);
  assert.equal(ok.code, 0, ok.stderr);
  assert.match(ok.stdout, /C1\s+small-ok\s+1\/1\s+pass/);
  for (const f of ['summary.md', 'summary.json', 'report.html', 'small-ok/table.md', 'small-ok/result.json', 'small-ok/figures/direction-error.png', 'small-ok/figures/direction-error.svg', 'small-ok/figures/direction-error.vl.json'])
    assert.ok(existsSync(join(out, f)), f);
  const png = readFileSync(join(out, 'small-ok/figures/direction-error.png'));
  assert.deepEqual([...png.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  assert.equal(JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')).pass, true);
  const all = cli(['reproduce', 'c1', '--experiments', dir, '--out', join(tmp, 'report2'), '--store', join(tmp, 'store.sqlite')]);
  assert.equal(all.code, 1, 'a failed expectation makes the exit code non-zero');
  assert.match(all.stdout, /small-fail\s+0\/1\s+FAIL/);
  assert.match(all.stderr, /FAIL impossible/);
  const unknown = cli(['reproduce', 'c9', '--experiments', dir, '--store', join(tmp, 'store.sqlite')]);
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /unknown experiment "c9"/);
});

test('reproduce c1 --quick passes with the built-in experiments (the README main command)', () => {
  const out = join(tmp, 'quick');
  const r = cli(['reproduce', 'c1', '--quick', '--out', out, '--store', join(tmp, 'quick.sqlite')]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
  assert.equal(summary.pass, true);
  const ids = summary.experiments.map((e: { id: string }) => e.id);
  for (const id of ['c1-s2-table', 'c1-direction-s2', 'c1-direction-synthetic', 'c1-eps-path-s2', 'c1-eps-path-synthetic']) assert.ok(ids.includes(id), id);
  // The must-show on the synthetic set: 1 − cos < 1e-6 with --reference auto, deep linear L = 3, exact ℓ∞, loss-scaled.
  const syn = summary.experiments.find((e: { id: string }) => e.id === 'c1-direction-synthetic');
  const row = syn.expectations.find((x: { metric: string; run: string }) => x.metric === 'referenceOneMinusCos' && /L=3 p=inf/.test(x.run));
  assert.ok(row && row.pass && row.measured < 1e-6, JSON.stringify(row));
});
