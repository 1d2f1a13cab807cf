/**
 * Claim names: the paper's C1–C3 and names of the user's own. Only the paper's claims are reported as
 * "reproduced"; an experiment with its own claim name says that its expectations were met.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLAIM_NAME, PAPER_CLAIMS, isPaperClaim, verdict } from '../../src/experiments/claims.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { runExperiment } from '../../src/experiments/runner.ts';
import { loadExperiments, selectExperiments, writeSummary } from '../../src/node/experiments.ts';
import { loadData } from '../../src/node/load-data.ts';
import { reportHtml } from '../../src/report/html.ts';
import { InputError } from '../../src/errors.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');

/** A tiny experiment: a linear model on S1 (clean training, 200 steps) that fits the data. */
function tinyExperiment(id: string, claim: string): Record<string, unknown> {
  return {
    id,
    claim,
    title: `tiny ${claim}`,
    description: 'a linear model on S1 fits the data',
    base: { data: 's1', model: 'linear', steps: 200, lr: 0.1 },
    reference: 'none',
    expectations: [{ id: 'fits', description: 'every training example is classified correctly', metric: 'trainAccuracy', op: '>=', value: 1 }],
  };
}

test('verdict: "All claims reproduced" only when every claim checked is one of the paper\'s', () => {
  assert.deepEqual([...PAPER_CLAIMS], ['C1', 'C2', 'C3']);
  const pass = { pass: true };
  assert.equal(verdict([{ claim: 'C1', pass: true }, { claim: 'C3', pass: true }], pass), 'All claims reproduced');
  assert.equal(verdict([{ claim: 'MY-CLAIM', pass: true }], pass), 'All expectations met (claims: MY-CLAIM)');
  assert.equal(verdict([{ claim: 'C1', pass: true }, { claim: 'MY-CLAIM', pass: true }], pass), 'All expectations met (claims: C1, MY-CLAIM)');
  assert.equal(verdict([], pass), 'All expectations met (claims: none)', 'nothing checked is not a reproduction');
  assert.equal(verdict([{ claim: 'C1', pass: false }], { pass: false }), 'Some expectations failed');
  assert.equal(verdict([{ claim: 'C1', pass: true }], { pass: false, interrupted: true }), 'Interrupted');
  assert.equal(isPaperClaim('c1'), false, 'the paper\'s claims are spelled C1, C2, C3');
});

test('experiment configs accept short claim names of one\'s own and reject others with the field named', () => {
  for (const claim of ['C1', 'C2', 'C3', 'MY-CLAIM', 'robustness.v2', 'H_1']) assert.equal(parseExperiment(tinyExperiment('x', claim), 'x.json').claim, claim);
  for (const claim of ['', 'my claim', '1st', 'all', 'ALL', 'c1', 'x'.repeat(33)]) {
    assert.ok(!CLAIM_NAME.test(claim) || ['all', 'ALL', 'c1'].includes(claim), claim);
    assert.throws(() => parseExperiment(tinyExperiment('x', claim), 'x.json'), (e: unknown) => e instanceof InputError && /field "claim"/.test(e.message), claim);
  }
});

test('the worked example of docs/EXPERIMENTS.md is a valid experiment with a claim of its own', () => {
  const [exp] = loadExperiments(join(ROOT, 'examples', 'own-data', 'experiments'));
  assert.equal(exp.id, 'p2-is-svm');
  assert.equal(exp.claim, 'P2-IS-SVM');
  assert.equal(isPaperClaim(exp.claim), false);
  const doc = readFileSync(join(ROOT, 'docs', 'EXPERIMENTS.md'), 'utf8');
  assert.ok(doc.includes(`"id": "${exp.id}"`) && doc.includes(`"claim": "${exp.claim}"`), 'the guide shows this file');
});

test('runner, summary and HTML report: an own claim says "all expectations met", the paper\'s "reproduced"', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'advbias-claims-'));
  try {
    const expDir = join(dir, 'experiments');
    mkdirSync(expDir);
    writeFileSync(join(expDir, 'mine.json'), JSON.stringify(tinyExperiment('mine', 'MY-CLAIM')));
    writeFileSync(join(expDir, 'paper.json'), JSON.stringify(tinyExperiment('paper', 'C1')));
    const all = loadExperiments(expDir);
    assert.deepEqual(selectExperiments(all, ['my-claim']).map((e) => e.id), ['mine'], 'selected by its claim name, any case');
    for (const [id, expected] of [
      ['mine', 'All expectations met (claims: MY-CLAIM)'],
      ['paper', 'All claims reproduced'],
    ] as const) {
      const exp = all.find((e) => e.id === id)!;
      const result = await runExperiment(exp, false, { loadData });
      assert.equal(result.claim, exp.claim);
      assert.equal(result.pass, true, JSON.stringify(result.table));
      const out = join(dir, `out-${id}`);
      writeSummary([{ exp, result }], out, false);
      const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
      assert.equal(summary.verdict, expected);
      assert.deepEqual(summary.claims.map((c: { claim: string }) => c.claim), [exp.claim]);
      assert.match(readFileSync(join(out, 'summary.md'), 'utf8'), new RegExp(`${expected.replace(/[()]/g, '\\$&')}\\.`));
      const html = reportHtml({
        title: 'advbias reproduce',
        generated: '2025-01-01T00:00:00Z',
        codeVersion: 'test',
        quick: false,
        pass: result.pass,
        seconds: result.seconds,
        claims: [{ claim: exp.claim, experiments: 1, expectations: result.table.length, passed: result.table.filter((r) => r.pass).length, pass: result.pass }],
        experiments: [],
      });
      assert.ok(html.includes(expected), `${id}: the report says "${expected}"`);
      if (id === 'mine') assert.ok(!html.includes('All claims reproduced'), 'an own claim is never called reproduced');
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('reproduce --experiments DIR: the final line names the own claim instead of "All claims reproduced"', () => {
  const dir = mkdtempSync(join(tmpdir(), 'advbias-claims-cli-'));
  try {
    const expDir = join(dir, 'experiments');
    mkdirSync(expDir);
    writeFileSync(join(expDir, 'mine.json'), JSON.stringify(tinyExperiment('mine', 'MY-CLAIM')));
    const r = spawnSync(process.execPath, [BIN, 'reproduce', '--experiments', expDir, '--out', join(dir, 'out'), '--store', join(dir, 'runs.sqlite'), '--jobs', '1'], { encoding: 'utf8', cwd: ROOT });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /MY-CLAIM\s+mine\s+1\/1\s+pass/);
    assert.match(r.stdout, /^All expectations met \(claims: MY-CLAIM\) in /m);
    assert.doesNotMatch(r.stdout, /All claims reproduced/);
    assert.match(readFileSync(join(dir, 'out', 'report.html'), 'utf8'), /All expectations met \(claims: MY-CLAIM\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
