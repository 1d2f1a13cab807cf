/**
 * From a validated `TrainConfig` to the objects a run needs (library code: no file access; the data
 * set and a reference direction are passed in). Kinds are looked up in their registries: nothing
 * here tests a kind's name.
 */
import type { TrainConfig } from './config.ts';
import type { TrainOptions } from './trainer.ts';
import type { ScheduleConfig } from './schedule.ts';
import { parseRecordSpec } from './record.ts';
import { scheduleOf } from './schedules.ts';
import { validateAttackConfig, attackDescriptor, perturbationNormOf, DEFAULT_PGD_STEP_FACTOR } from '../attacks/index.ts';
import type { AttackConfig } from '../attacks/attack.ts';
import { createModel, modelDescriptor, type ModelSpec } from '../models/registry.ts';
import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import type { KktOption } from '../metrics/measure.ts';

/** PGD step α in force: the config's, else 2.5·ε/K (Madry et al.); null when it does not apply. */
export function attackStepSizeOf(c: TrainConfig): number | null {
  return c.attackStepSize ?? (c.eps > 0 ? (DEFAULT_PGD_STEP_FACTOR * c.eps) / c.attackSteps : null);
}

/** η_t decay in force: the config's, else the schedule's default (inverse for normalized, sqrt for loss-scaled, none otherwise). */
export function lrDecayOf(c: TrainConfig): 'none' | 'sqrt' | 'inverse' {
  return scheduleOf(c).decay;
}

/** The perturbation norm p of a config (the attack kind's fixed norm, e.g. FGSM's ∞, or `p`). */
export function perturbationNorm(c: TrainConfig): number {
  return perturbationNormOf({ kind: c.attack, p: c.p });
}

/** The attack settings of a config (α defaults to 2.5·ε/K, Madry et al.); validated once, here. */
export function attackFromConfig(c: TrainConfig): AttackConfig {
  const desc = attackDescriptor(c.attack);
  // ε = 0: any positive step keeps the config valid (δ is 0 anyway).
  const stepSize = attackStepSizeOf(c) ?? 1;
  return validateAttackConfig({
    kind: desc.kind,
    p: c.p,
    eps: c.eps,
    steps: c.attackSteps,
    stepSize,
    randomStart: c.randomStart,
    ...(c.clip ? { clip: c.clip } : {}),
  });
}

/**
 * The model spec a config asks for on this data: the model kind's own settings (its descriptor's
 * fields), with K outputs from the labels.
 */
export function modelSpecFromConfig(c: TrainConfig, data: Dataset): ModelSpec {
  const desc = modelDescriptor(c.model, 'model');
  const spec: Record<string, unknown> = { kind: desc.kind, inputDim: data.d, outputs: data.binary ? 1 : data.classes };
  const values = c as unknown as Record<string, unknown>;
  for (const [key, f] of Object.entries(desc.fields)) {
    const v = values[f.name];
    if (v !== null && v !== undefined) spec[key] = v;
  }
  return spec as unknown as ModelSpec;
}

/** Build the model a config asks for on this data (outputs from the labels). */
export function modelFromConfig(c: TrainConfig, data: Dataset): Model {
  return createModel(modelSpecFromConfig(c, data));
}

/** The step-size schedule of a config. */
export function scheduleFromConfig(c: TrainConfig): ScheduleConfig {
  return scheduleOf(c);
}

/** Complete TrainOptions for a config on `data`, with an optional reference direction and hooks. */
export function trainOptionsFromConfig(
  c: TrainConfig,
  data: Dataset,
  extra: Pick<TrainOptions, 'reference' | 'onRecord' | 'onStep' | 'shouldStop'> = {},
): TrainOptions {
  const model = modelFromConfig(c, data);
  return {
    model,
    data,
    attack: attackFromConfig(c),
    loss: c.loss,
    schedule: scheduleFromConfig(c),
    steps: c.steps,
    batchSize: c.batchSize,
    initScale: c.initScale,
    seed: c.seed,
    record: parseRecordSpec(c.record)!,
    kkt: kktFromConfig(c.kkt, data.n, model.numParams),
    ...extra,
  };
}

/** KKT measurement sizes that "auto" turns on: every example, and at most this many gradient entries. */
const KKT_AUTO_MAX_EXAMPLES = 2000;
const KKT_AUTO_MAX_ENTRIES = 1 << 24;

/** The KKT option of a config: null (off) or which examples. */
export function kktFromConfig(kkt: TrainConfig['kkt'], n: number, numParams: number): KktOption | null {
  if (kkt === 'off') return null;
  if (kkt === 'all') return { examples: 'all' };
  if (kkt === 'auto') return n <= KKT_AUTO_MAX_EXAMPLES && n * numParams <= KKT_AUTO_MAX_ENTRIES ? { examples: 'all' } : null;
  return { examples: kkt };
}
