import { readFileSync, writeFileSync, openSync, writeSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../errors.ts';
import { settingsFromFlags, type SettingFlags } from './flags.ts';
import { attackDescriptor } from '../attacks/index.ts';
import { parseTrainConfig, configToJson, type TrainConfig } from '../train/config.ts';
import { trainOptionsFromConfig, attackStepSizeOf, lrDecayOf } from '../train/from-config.ts';
import { autoReference, checkAdversarialSeparability, isAdversarial, perturbationNorm } from '../train/reference.ts';
import { robustAccuracyCurve, type RobustAccuracyCurve } from '../attacks/evaluate.ts';
import type { SolverResult } from '../solvers/types.ts';
import { trainAsync, type TrainResult } from '../train/trainer.ts';
import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { loadData } from '../node/load-data.ts';
import { formatNormExponent } from '../linalg/norms.ts';
import type { Measurement } from '../metrics/measure.ts';
import { toJson, csvHeader, csvRow } from './output.ts';
import { VERSION } from './version.ts';
import { kernels } from '../linalg/kernels.ts';
import { paramsDocument, type UnitParams } from '../io/params.ts';
import { loadParamsFile, paramsForModel, paramsSourceInfo } from '../node/params-io.ts';
import { prepareOutFolder } from '../node/out-path.ts';
import { checkRunInput } from '../train/run-checks.ts';
import { beginTrainRecord, completeTrainRecord, trainStoreLocation, type TrainRecord } from './train-store.ts';

/** Flags of `advbias train` as commander hands them over (strings, booleans; repeated flags as arrays). */
export type TrainFlags = SettingFlags;

/** Read the JSON config file named by --config. */
function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new InputError(`cannot read config file "${path}": ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'config');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new InputError(`config file "${path}" is not valid JSON: ${(e as Error).message}`, 'config');
  }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InputError(`config file "${path}" must hold a JSON object of settings`, 'config');
  // A result.json of an earlier run can be given as the config: its "config" field reruns it.
  const doc = raw as Record<string, unknown>;
  if (doc.config && typeof doc.config === 'object' && !Array.isArray(doc.config) && 'final' in doc) return { ...(doc.config as Record<string, unknown>) };
  return doc;
}

/** Merge defaults ← config file ← flags and validate. */
export function resolveTrainConfig(flags: TrainFlags): TrainConfig {
  const file = typeof flags.config === 'string' ? flags.config : null;
  const { raw: fromFlagValues, fromFlags } = settingsFromFlags(flags);
  const raw: Record<string, unknown> = { ...(file ? readConfigFile(file) : {}), ...fromFlagValues };
  const c = parseTrainConfig(raw, fromFlags, file ? `config file "${file}"` : 'config');
  // Record the values actually used, so that result.json's config reruns the same run.
  return {
    ...c,
    lrDecay: lrDecayOf(c),
    attackStepSize: attackDescriptor(c.attack).fields.stepSize ? attackStepSizeOf(c) : c.attackStepSize,
  };
}

/** Read a reference direction file {"direction": number[]}. */
export function readReference(path: string, d: number): Float64Array {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new InputError(`cannot read reference file "${path}": ${code === 'ENOENT' ? 'no such file' : (e as Error).message}`, 'reference');
  }
  const dir = (raw as { direction?: unknown } | null)?.direction;
  if (!Array.isArray(dir) || dir.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
    throw new InputError(`reference file "${path}": "direction" must be an array of finite numbers`, 'reference');
  if (dir.length !== d) throw new InputError(`reference file "${path}": direction has ${dir.length} entries, the data has d = ${d}`, 'reference');
  if (dir.every((v) => v === 0)) throw new InputError(`reference file "${path}": direction is the zero vector`, 'reference');
  return Float64Array.from(dir as number[]);
}

/**
 * Run a training config to the end (or until `shouldStop`), streaming rows to `onRecord`. Yields to
 * the event loop between slices so that signals and the progress bar are served.
 */
export async function runTrainConfig(
  c: TrainConfig,
  hooks: { onRecord?: (m: Measurement) => void; onStep?: (t: number) => void; shouldStop?: () => boolean; start?: (model: Model) => UnitParams } = {},
): Promise<{ result: TrainResult; data: Dataset; model: Model; referenceSolution: SolverResult | null; evaluation: RobustAccuracyCurve | null }> {
  const data = loadData(c.data);
  // Sizes (before anything is allocated), one-class data, a batch larger than the data: one line naming the flag.
  checkRunInput(c, data);
  // A linear-in-x model trained with ε ≥ γ_q* has no margin to grow: refuse before training.
  await checkAdversarialSeparability(c, data);
  const { reference, referenceSolution } = await referenceOf(c, data);
  const { start, ...rest } = hooks;
  const opts = trainOptionsFromConfig(c, data, { reference, ...rest });
  // --init-from: saved parameters, checked against the model the config builds.
  const result = await trainAsync(start ? { ...opts, start: start(opts.model) } : opts);
  const evaluation = result.interrupted ? null : evaluationOf(c, opts.model, result.theta, data);
  return { result, data, model: opts.model, referenceSolution, evaluation };
}

/** The reference direction a config asks for (`reference`: a file, "auto" — solved here — or none). */
export async function referenceOf(c: TrainConfig, data: Dataset): Promise<{ reference: Float64Array | undefined; referenceSolution: SolverResult | null }> {
  if (c.reference === 'auto') {
    const referenceSolution = await autoReference(c, data);
    return { reference: referenceSolution.direction!, referenceSolution };
  }
  return { reference: c.reference ? readReference(c.reference, data.d) : undefined, referenceSolution: null };
}

/** The robust-accuracy curve a config asks for (`evalEps`, on `evalData` or the training data) at θ; null without evalEps. */
export function evaluationOf(c: TrainConfig, model: Model, theta: Float64Array, data: Dataset): RobustAccuracyCurve | null {
  if (!c.evalEps) return null;
  const evalData = c.evalData ? loadData(c.evalData) : data;
  return robustAccuracyCurve(model, theta, evalData, {
    p: perturbationNorm(c),
    epsList: [0, ...c.evalEps],
    steps: c.evalSteps,
    restarts: c.evalRestarts,
    seed: c.seed,
  });
}

/** The JSON document of a run: {"config", "final", "history", ...}. */
export function resultDocument(c: TrainConfig, r: TrainResult, model: Model, data: Dataset, ref: SolverResult | null = null, evaluation: RobustAccuracyCurve | null = null): Record<string, unknown> {
  return {
    config: configToJson(c),
    final: r.final,
    history: r.history,
    ...(evaluation ? { evaluation: { ...evaluation, p: formatNormExponent(evaluation.p), data: c.evalData ?? c.data } } : {}),
    run: {
      version: VERSION,
      kernels: kernels().name,
      stepsDone: r.stepsDone,
      interrupted: r.interrupted,
      rollbacks: r.rollbacks,
      monotonicity: r.monotonicity,
      model: { ...model.spec, order: model.order, numParams: model.numParams },
      data: { name: data.name, n: data.n, d: data.d, binary: data.binary, classes: data.classes },
      ...(ref ? { reference: { problem: ref.problem, solver: ref.solver, status: ref.status, direction: Array.from(ref.direction!), margin: ref.margin, kkt: ref.kkt } } : {}),
    },
    // The final parameters (θ̂ and log‖θ‖, exact): `train --init-from` and `measure --params` read them.
    params: paramsDocument(model, r.thetaUnit, r.logNorm),
  };
}

function fmt(v: number | undefined, digits = 6): string {
  if (v === undefined) return '—';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(digits - 1) : v.toFixed(digits);
}

/** A readable end-of-run summary. */
export function summaryText(c: TrainConfig, r: TrainResult, model: Model, data: Dataset): string {
  return [
    `advbias train — ${model.kind} (L = ${model.order}, ${model.numParams} parameters) on ${data.name} (n = ${data.n}, d = ${data.d})`,
    `  attack ${c.attack}${c.attack === 'none' ? '' : ` (p = ${formatNormExponent(c.p)}, ε = ${c.eps})`}, loss ${c.loss}, schedule ${c.schedule}, lr ${c.lr}, seed ${c.seed}`,
    `  steps ${r.stepsDone}${r.interrupted ? ' (interrupted)' : ''}${r.rollbacks ? `, ${r.rollbacks} rollbacks` : ''}`,
    ...measurementLines(c, r.final),
  ].join('\n');
}

/** The lines of a summary that show one (final) measurement: margins, accuracies, gap, direction, KKT, alignment. */
export function measurementLines(c: TrainConfig, f: Measurement): string[] {
  const lines = [
    `  log-loss                 ${fmt(f.logLoss)}`,
    `  normalized margin        ${fmt(f.normalizedMargin)} (clean)   ${fmt(f.adversarialNormalizedMargin)} (adversarial)`,
    `  smoothed margin          ${fmt(f.smoothedMargin)}`,
    `  accuracy                 ${fmt(f.trainAccuracy, 4)} (clean)   ${fmt(f.robustAccuracy, 4)} (robust)`,
  ];
  if (f.attackGap !== undefined) lines.push(`  attack gap               ${fmt(f.attackGap)} (training attack vs exact worst case)`);
  if (f.referenceAngleDeg !== undefined && c.reference === 'auto') lines.push(`  reference                auto: ${isAdversarial(c) ? `adversarial SVM (B), p = ${formatNormExponent(perturbationNorm(c))}, ε = ${c.eps}` : 'ℓ2-SVM'}`);
  if (f.referenceAngleDeg !== undefined) lines.push(`  direction error          ${fmt(f.referenceAngleDeg)}° (1 − cos = ${fmt(f.referenceOneMinusCos)})`);
  if (f.predictor && f.predictor.length <= 8) {
    const ang = f.predictor.length === 2 ? `, angle ${fmt((Math.atan2(f.predictor[1], f.predictor[0]) * 180) / Math.PI)}°` : '';
    lines.push(`  predictor β/‖β‖          (${f.predictor.map((v) => fmt(v)).join(', ')})${ang}`);
  }
  if (f.kkt) {
    lines.push(
      `  KKT residuals            stationarity ${fmt(f.kkt.stationarity)}, complementarity ${fmt(f.kkt.complementarity)}, cos∠(θ, −∇L̃) ${fmt(f.kkt.gradientCosine, 10)} (${f.kkt.examples} examples, support ${f.kkt.support})`,
    );
    if (f.kkt.clarkeStationarity !== undefined) lines.push(`  KKT residual, Clarke     stationarity ${fmt(f.kkt.clarkeStationarity)}, complementarity ${fmt(f.kkt.clarkeComplementarity)} (slopes in [a, 1] at ${f.kkt.kinks} near-kink units of the support, |z| ≤ ${f.kkt.kinkTolerance}·‖w‖‖a_in‖)`);
  }
  if (f.alignment) {
    lines.push(`  alignment rank-1 ratios  ${f.alignment.rank1.map((v) => fmt(v, 10)).join(' ')}`);
    if (f.alignment.adjacent.length) lines.push(`  adjacent alignment       ${f.alignment.adjacent.map((v) => fmt(v, 10)).join(' ')}`);
    lines.push(`  layer shares of ‖θ‖²     ${f.alignment.layerShares.map((v) => fmt(v, 4)).join(' ')}`);
  }
  return lines;
}

/** The robust-accuracy curve as summary lines. */
export function evaluationText(evaluation: RobustAccuracyCurve): string {
  return (
    `  robust accuracy (${evaluation.attack === 'exact' ? 'exact worst case' : `PGD-${evaluation.steps}, ${evaluation.restarts} restarts`}, ${evaluation.examples} examples)\n` +
    evaluation.eps.map((e, i) => `    ε = ${e}: ${evaluation.robustAccuracy[i].toFixed(4)}`).join('\n') +
    '\n'
  );
}

/** `advbias train`: returns the exit code. */
export async function trainCommand(flags: TrainFlags): Promise<number> {
  const c = resolveTrainConfig(flags);
  // --init-from: read (and check the format of) the file before any data is loaded or solved.
  const init = typeof flags.initFrom === 'string' ? loadParamsFile(flags.initFrom, '--init-from') : null;
  const out = typeof flags.out === 'string' ? flags.out : null;
  let csvPath: string | null = null;
  /** history.csv, open for the whole run (one write per row; no open/close per row). */
  let csvFd: number | null = null;
  if (out) {
    // A file, a path under a file, an unwritable folder or /proc: one line naming --out, before any work.
    prepareOutFolder(out, '--out');
    csvPath = join(out, 'history.csv');
    writeFileSync(csvPath, csvHeader());
  }
  // The run store (before training, so that a bad --store fails at once): see train-store.ts.
  const storeLocation = trainStoreLocation(flags.store as string | boolean | undefined, out);
  const record: TrainRecord | null = storeLocation === null ? null : await beginTrainRecord(storeLocation, configToJson(c));
  let stop = false;
  const onSigint = (): void => {
    if (stop) {
      // The SQLite store writes before this returns; the row would otherwise stay 'running'.
      void record?.store.fail(record.key, 'killed by a second Ctrl-C before the end (nothing stored)');
      process.exit(130);
    }
    stop = true;
    process.stderr.write('\ninterrupted: finishing the current step and writing what was computed (Ctrl-C again to quit at once)\n');
  };
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigint);
  // The progress bar's module is loaded only for a terminal (~6 ms of start-up otherwise).
  const cliProgress = process.stderr.isTTY ? (await import('cli-progress')).default : null;
  const bar = cliProgress
    ? new cliProgress.SingleBar(
        { stream: process.stderr, format: 'training [{bar}] {percentage}% | step {value}/{total} | eta {eta_formatted} | {info}', hideCursor: true, fps: 10 },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(c.steps, 0, { info: '' });
  let lastUpdate = 0;
  try {
    if (csvPath) csvFd = openSync(csvPath, 'a');
    const { result, data, model, referenceSolution, evaluation } = await runTrainConfig(c, {
      onRecord: (m) => {
        // History rows go to disk as they are measured: an interrupted run keeps them.
        if (csvFd !== null) writeSync(csvFd, csvRow(m));
        const dir = m.referenceAngleDeg !== undefined ? ` | direction error ${fmt(m.referenceAngleDeg, 3)}°` : '';
        bar?.update(m.step, { info: `log-loss ${fmt(m.logLoss, 4)} | γ̄ ${fmt(m.adversarialNormalizedMargin, 4)}${dir}` });
      },
      onStep: bar
        ? (t) => {
            const now = Date.now();
            if (now - lastUpdate >= 100 || t === c.steps) {
              bar.update(t);
              lastUpdate = now;
            }
          }
        : undefined,
      shouldStop: () => stop,
      start: init ? (m) => paramsForModel(init, m, '--init-from') : undefined,
    });
    bar?.stop();
    const doc = resultDocument(c, result, model, data, referenceSolution, evaluation);
    if (init) (doc.run as Record<string, unknown>).initFrom = paramsSourceInfo(init);
    if (out) writeFileSync(join(out, 'result.json'), toJson(doc, 2) + '\n');
    if (record) await completeTrainRecord(record, doc);
    if (flags.json === true) process.stdout.write(toJson(doc) + '\n');
    else {
      process.stdout.write(summaryText(c, result, model, data) + '\n');
      if (init) process.stdout.write(`  started from ${init.file}${init.format === 'result' ? '' : ` (${init.format})`}\n`);
      if (evaluation) process.stdout.write(evaluationText(evaluation));
      if (out) process.stdout.write(`  wrote ${join(out, 'result.json')} and ${csvPath}\n`);
      if (record) process.stdout.write(`  stored as run ${record.id} in ${record.store.location} (advbias runs show ${record.id} --store ${record.store.location})\n`);
    }
    return result.interrupted ? 130 : 0;
  } catch (e) {
    // A store that cannot record the failure must not hide the error that caused it.
    if (record) await record.store.fail(record.key, (e as Error)?.message ?? String(e)).catch(() => undefined);
    throw e;
  } finally {
    if (csvFd !== null) closeSync(csvFd);
    await record?.store.close();
    bar?.stop();
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
  }
}
