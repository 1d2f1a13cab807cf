/**
 * Node side of the experiments: finding the JSON configs, running them, and writing results,
 * figures and tables into an output folder.
 */
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../errors.ts';
import { parseExperiment, type ExperimentConfig } from '../experiments/schema.ts';
import type { ExperimentResult, ExpectationRow } from '../experiments/runner.ts';
import { packageRoot } from './package-root.ts';
import { experimentFigures } from '../experiments/figures.ts';
import { writeFigure } from './render.ts';
import { verdict } from '../experiments/claims.ts';

/** The folder of the experiment configs shipped with advbias. */
export const EXPERIMENTS_DIR = join(packageRoot(), 'experiments');

/** Every experiment config in `dir`, validated, sorted by id. */
export function loadExperiments(dir: string = EXPERIMENTS_DIR): ExperimentConfig[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    throw new InputError(`cannot read the experiments folder "${dir}"`, 'experiments');
  }
  const files = names.filter((f) => f.endsWith('.json')).sort();
  if (files.length === 0) throw new InputError(`no experiment configs (*.json) in "${dir}"`, 'experiments');
  const out: ExperimentConfig[] = [];
  for (const f of files) {
    const path = join(dir, f);
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new InputError(`experiment file "${path}" is not valid JSON: ${(e as Error).message}`, 'experiment');
    }
    const exp = parseExperiment(raw, `"${path}"`);
    if (`${exp.id}.json` !== f) throw new InputError(`experiment file "${path}": id "${exp.id}" must match the file name`, 'experiment');
    out.push(exp);
  }
  return out;
}

/** Pick experiments by `all`, a claim (`c1`) or ids; unknown names are an InputError listing what exists. */
export function selectExperiments(all: ExperimentConfig[], names: string[]): ExperimentConfig[] {
  if (names.length === 0 || names.includes('all')) return all;
  const picked = new Map<string, ExperimentConfig>();
  for (const name of names) {
    const lower = name.toLowerCase();
    const byClaim = all.filter((e) => e.claim.toLowerCase() === lower);
    const byId = all.filter((e) => e.id === lower);
    const found = byClaim.length > 0 ? byClaim : byId;
    if (found.length === 0)
      throw new InputError(`unknown experiment "${name}" (allowed: all, ${[...new Set(all.map((e) => e.claim.toLowerCase()))].join(', ')}, ${all.map((e) => e.id).join(', ')})`, 'experiment');
    for (const e of found) picked.set(e.id, e);
  }
  return [...picked.values()];
}

function fmt(v: number | null): string {
  if (v === null) return 'not measured';
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a < 1e-3 || a >= 1e5 ? v.toExponential(3) : v.toPrecision(6);
}

/** The expectations table of one experiment, as Markdown. */
export function tableMarkdown(rows: readonly ExpectationRow[]): string {
  const lines = ['| expectation | run | metric | expected | measured | result |', '|---|---|---|---|---|---|'];
  for (const r of rows) lines.push(`| ${r.description} | ${r.run} | ${r.metric} | ${r.expected} | ${fmt(r.measured)} | ${r.pass ? 'pass' : '**FAIL**'} |`);
  return lines.join('\n') + '\n';
}

/** Write result.json, table.md and the figures of one experiment into `dir/<id>/`. */
export async function writeExperiment(exp: ExperimentConfig, result: ExperimentResult, dir: string): Promise<{ figures: string[]; notes: string[] }> {
  const out = join(dir, exp.id);
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'result.json'), JSON.stringify({ experiment: exp, result }, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? null : v), 1) + '\n');
  const head = `# ${exp.title}\n\n${exp.description}\n\n${result.quick ? 'Quick mode. ' : ''}Claim ${exp.claim}: ${result.pass ? 'every expectation passed' : 'SOME EXPECTATIONS FAILED'} (${result.runs.length} runs, ${result.seconds.toFixed(1)} s).\n\n`;
  const figures: string[] = [];
  const notes: string[] = [];
  for (const { id, figure } of experimentFigures(exp, result)) {
    const w = await writeFigure(figure.spec, join(out, 'figures'), id);
    figures.push(w.png);
    notes.push(...figure.notes.map((n) => `${id}: ${n}`), ...w.warnings.map((n) => `${id}: ${n}`));
  }
  const figs = exp.figures.map((f) => `![${f.title}](figures/${f.id}.png)\n`).join('\n');
  writeFileSync(join(out, 'table.md'), head + tableMarkdown(result.table) + (figs ? `\n${figs}` : '') + (notes.length ? `\nNotes:\n${notes.map((n) => `- ${n}`).join('\n')}\n` : ''));
  return { figures, notes };
}

/** Where a run's result came from: its store key, seed, config, and whether it was reused or resumed. */
export interface RunProvenance {
  label: string;
  key: string;
  seed: number;
  reused: boolean;
  resumedFromStep: number | null;
  seconds: number;
  config: Record<string, unknown>;
}

/**
 * The summary over experiments: Markdown and JSON. `summary.json` holds, per claim and experiment,
 * the expected outcomes with measured values and pass/fail, and per run its config, seed, store key
 * and whether it was reused from the run store.
 */
export function writeSummary(
  results: { exp: ExperimentConfig; result: ExperimentResult; provenance?: RunProvenance[] }[],
  dir: string,
  quick: boolean,
  meta: { codeVersion?: string; seconds?: number; store?: string; verdict?: string } = {},
): void {
  mkdirSync(dir, { recursive: true });
  const lines = [
    `# advbias reproduce${quick ? ' --quick' : ''}`,
    '',
    '| claim | experiment | expectations passed | runs | time (s) | result |',
    '|---|---|---|---|---|---|',
  ];
  for (const { exp, result } of results) {
    const passed = result.table.filter((r) => r.pass).length;
    lines.push(`| ${exp.claim} | [${exp.id}](${exp.id}/table.md): ${exp.title} | ${passed}/${result.table.length} | ${result.runs.length} | ${result.seconds.toFixed(1)} | ${result.pass ? 'pass' : '**FAIL**'} |`);
  }
  const claims = [...new Set(results.map((r) => r.exp.claim))].map((claim) => {
    const rs = results.filter((r) => r.exp.claim === claim);
    const rows = rs.flatMap((r) => r.result.table);
    return { claim, pass: rs.every((r) => r.result.pass), experiments: rs.map((r) => r.exp.id), expectations: rows.length, passed: rows.filter((r) => r.pass).length };
  });
  const pass = results.every((r) => r.result.pass);
  // "All claims reproduced" only for the paper's claims C1–C3 (experiments/claims.ts).
  const outcome = meta.verdict ?? verdict(claims, { pass });
  lines.push('', `${outcome}.`);
  writeFileSync(join(dir, 'summary.md'), lines.join('\n') + '\n');
  const summary = {
    quick,
    pass,
    ...meta,
    verdict: outcome,
    claims,
    experiments: results.map(({ exp, result, provenance }) => ({
      id: exp.id,
      claim: exp.claim,
      title: exp.title,
      pass: result.pass,
      runs: result.runs.length,
      seconds: result.seconds,
      expectations: result.table,
      ...(provenance ? { runDetails: provenance } : {}),
    })),
  };
  writeFileSync(join(dir, 'summary.json'), JSON.stringify(summary, null, 1) + '\n');
}
