/**
 * From a validated `TrainConfig` to the objects a run needs (library code: no file access; the data
 * set and a reference direction are passed in).
 */
import type { TrainConfig } from './config.ts';
import type { TrainOptions } from './trainer.ts';
import type { ScheduleConfig } from './schedule.ts';
import { parseRecordSpec } from './record.ts';
import { validateAttackConfig, DEFAULT_PGD_STEP_FACTOR } from '../attacks/index.ts';
import type { AttackConfig } from '../attacks/attack.ts';
import { createModel } from '../models/registry.ts';
import type { Model } from '../models/model.ts';
import type { Dataset } from '../data/dataset.ts';
import { InputError } from '../errors.ts';
import type { KktOption } from '../metrics/measure.ts';

/** MNIST images flattened: d = 784 is read as one 28×28 channel when `inputShape` is null. */
const MNIST_SHAPE = [1, 28, 28] as const;
const MNIST_DIM = 784;

/** PGD step α in force: the config's, else 2.5·ε/K (Madry et al.); null when it does not apply. */
export function attackStepSizeOf(c: TrainConfig): number | null {
  return c.attackStepSize ?? (c.eps > 0 ? (DEFAULT_PGD_STEP_FACTOR * c.eps) / c.attackSteps : null);
}

/** η_t decay in force: the config's, else sqrt for loss-scaled and none otherwise. */
export function lrDecayOf(c: TrainConfig): 'none' | 'sqrt' {
  return c.lrDecay ?? (c.schedule === 'loss-scaled' ? 'sqrt' : 'none');
}

/** The attack settings of a config (α defaults to 2.5·ε/K, Madry et al.). */
export function attackFromConfig(c: TrainConfig): AttackConfig {
  // ε = 0: any positive step keeps the config valid (δ is 0 anyway).
  const stepSize = attackStepSizeOf(c) ?? 1;
  return validateAttackConfig({ kind: c.attack, p: c.p, eps: c.eps, steps: c.attackSteps, stepSize, randomStart: c.randomStart });
}

/**
 * Build the model a config asks for on this data (outputs from the labels). relu-cnn takes its
 * architecture from `inputShape` ([1, 28, 28] when null and d = 784), `conv`, `dense` and `leak`.
 */
export function modelFromConfig(c: TrainConfig, data: Dataset): Model {
  if (c.model === 'relu-cnn') {
    let inputShape: readonly number[] | null = c.inputShape;
    if (inputShape === null) {
      if (data.d !== MNIST_DIM) {
        throw new InputError(`relu-cnn needs config field "inputShape" [channels, height, width] with product d = ${data.d} for data "${data.name}" (only d = ${MNIST_DIM} defaults to [${MNIST_SHAPE.join(', ')}])`, 'inputShape');
      }
      inputShape = MNIST_SHAPE;
    }
    return createModel({
      kind: 'relu-cnn',
      inputDim: data.d,
      inputShape,
      conv: c.conv,
      dense: c.dense,
      outputs: data.binary ? 1 : data.classes,
      leak: c.leak,
    });
  }
  const hidden = c.model === 'deep-linear' || c.model === 'relu-mlp';
  return createModel({
    kind: c.model,
    inputDim: data.d,
    depth: c.model === 'linear' ? undefined : c.depth,
    width: hidden ? c.width : undefined,
    outputs: data.binary ? 1 : data.classes,
    leak: c.model === 'relu-mlp' ? c.leak : undefined,
  });
}

/** The step-size schedule of a config. */
export function scheduleFromConfig(c: TrainConfig): ScheduleConfig {
  return { kind: c.schedule, lr: c.lr, decay: lrDecayOf(c), form: c.stepForm };
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
