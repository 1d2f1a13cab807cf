/**
 * advbias — adversarial training of homogeneous (bias-free) networks and its implicit bias, measured
 * against the theory of Lyu & Zhu, "Analyzing the implicit bias of adversarial training from a
 * generalized margin perspective" (IEEE TPAMI 2025).
 *
 * This module is the library's public surface. It runs in Node ≥ 20 and in browsers (through a
 * bundler): nothing it reaches imports `fs`, `path` or `process`. Everything is float64, every random
 * choice goes through a seeded {@link Rng}, and training runs in the log domain (θ = ρ·θ̂ with
 * ‖θ̂‖₂ = 1 and log ρ kept apart), so it keeps going long after e^{−margin} underflows.
 *
 * - Train: {@link train} / {@link trainAsync} / {@link TrainingRun} (with measurements, history,
 *   checkpoints), or your own loop over the pure {@link createStepper | step(state, batch)}.
 * - Compare with the theory: {@link solve} and {@link referenceFor} (the max-margin problems).
 * - Build the pieces: {@link createModel}, {@link createAttack}, {@link createSchedule}, the data
 *   helpers ({@link s2}, {@link sectors}, {@link syntheticSeparable}, {@link parseDataSpec}, …).
 * - Measure: {@link Measurer}, {@link kktResiduals}, {@link deepLinearAlignment},
 *   {@link directionError}, {@link robustAccuracyCurve}.
 *
 * @example
 * ```ts
 * import { train, createModel, s2, validateAttackConfig, solve, directionError } from 'advbias';
 * const data = s2();
 * const model = createModel({ kind: 'deep-linear', inputDim: data.d, depth: 3 });
 * const attack = validateAttackConfig({ kind: 'exact', p: Infinity, eps: 0.25 });
 * const result = train({ model, data, attack, loss: 'exp', steps: 20000, batchSize: 0, initScale: 1, seed: 0,
 *   schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' } });
 * const svm = await solve('adversarial-svm', data, { p: Infinity, eps: 0.25 });
 * directionError(result.final.predictor!, svm.direction!).angleDeg; // ≈ 0
 * ```
 *
 * @packageDocumentation
 */

// ---- Training ----
export {
  train,
  trainAsync,
  TrainingRun,
  type TrainOptions,
  type TrainResult,
  type TrainCheckpoint,
  type TrainFingerprint,
} from './train/trainer.ts';
export {
  createStepper,
  runStreams,
  EpochBatches,
  checkModelFitsData,
  type Stepper,
  type StepperOptions,
  type StepPhase,
  type TrainState,
  type MutableTrainState,
  type RollbackPoint,
} from './train/step.ts';
export {
  createSchedule,
  validateScheduleConfig,
  baseRate,
  sphereCoefficient,
  SCHEDULE_KINDS,
  LOSS_BASED_GROW,
  LOSS_BASED_SHRINK,
  type Schedule,
  type ScheduleConfig,
  type ScheduleKind,
  type ScheduleState,
  type StatelessScheduleState,
  type LossBasedScheduleState,
  type ScheduleInfo,
  type ScheduleUpdate,
  type StepForm,
  type LrDecay,
} from './train/schedule.ts';
export { recordSteps, parseRecordSpec, DEFAULT_RECORD, type RecordSpec } from './train/record.ts';
export { SCHEDULES, LOSSES, scheduleDescriptor, scheduleOf, type ScheduleDescriptor, type LossDescriptor } from './train/schedules.ts';

// ---- Configs (generated from the kind descriptors) ----
export { DescriptorFamily, nestedSchema, type KindDescriptor, type Field, type FlagType } from './kinds/descriptor.ts';
export { parseTrainConfig, configToJson, nestedConfig, trainConfigJsonSchema, flagName, TRAIN_FIELDS, TrainConfigSchema, type TrainConfig } from './train/config.ts';
export { trainOptionsFromConfig, modelFromConfig, modelSpecFromConfig, attackFromConfig, scheduleFromConfig, perturbationNorm } from './train/from-config.ts';
export { parseExperiment, experimentJsonSchema, type ExperimentConfig } from './experiments/schema.ts';
export { parseNumberText } from './util/number-text.ts';

// ---- Models ----
export { createModel, modelDescriptor, MODELS, MODEL_KINDS, DEFAULT_DEPTH, type ModelKind, type ModelSpec, type ModelDescriptor, type ModelTraits, type C3Architecture, type ReferenceProblem } from './models/registry.ts';
export { createLeakyReluMlp, type LeakyReluMlpOptions } from './models/leaky-relu-mlp.ts';
export { hasBatch, type Model, type BatchModel, type ParamBlock, type Workspace, type BatchWorkspace } from './models/model.ts';
export { createLinear } from './models/linear.ts';
export { createDeepLinear, type DeepLinearOptions } from './models/deep-linear.ts';
export { createDiagonal, createDiagonalPm, type DiagonalOptions } from './models/diagonal.ts';
export { createConv, type ConvOptions } from './models/conv.ts';
export { createReluMlp, type ReluMlpOptions } from './models/relu-mlp.ts';
export { createReluCnn, convStackShapes, convOutputSize, type ConvLayerShape, type ReluCnn, type ReluCnnOptions, type ConvLayerOptions, type PoolOptions } from './models/relu-cnn.ts';

// ---- Attacks ----
export {
  createAttack,
  validateAttackConfig,
  attackDescriptor,
  perturbationNormOf,
  perturbationRadiusOf,
  ATTACKS,
  ATTACK_KINDS,
  DEFAULT_PGD_STEPS,
  DEFAULT_PGD_STEP_FACTOR,
  type AttackDescriptor,
  type AttackTraits,
} from './attacks/index.ts';
export type { Attack, AttackConfig, AttackKind } from './attacks/attack.ts';
export {
  robustAccuracyCurve,
  attackGapCurve,
  type RobustAccuracyOptions,
  type RobustAccuracyCurve,
  type AttackGapCurve,
} from './attacks/evaluate.ts';

// ---- Losses ----
export { logLossAndWeights, smoothedMargin, logLogistic, logSigmoid, LOSS_KINDS, type LossKind } from './losses/loss.ts';

// ---- Solvers (the max-margin problems the theory predicts) ----
export {
  solve,
  referenceFor,
  PROBLEM_KINDS,
  type SolveOptions,
  type ReferenceModel,
  type ReferenceAttack,
  type ProblemKind,
  type SolverResult,
  type SolverStatus,
  type KktResiduals,
} from './solvers/index.ts';

// ---- Data ----
export type { Dataset } from './data/dataset.ts';
export { s1, s2, S1_POINTS, S2_POINTS, type BuiltinOptions } from './data/builtin.ts';
export { sectors, SECTORS_DEFAULTS, type SectorsOptions } from './data/sectors.ts';
export { syntheticSeparable, type SyntheticOptions, type SyntheticDataset } from './data/synthetic.ts';
export { parseJsonDataset, parseCsvDataset, datasetToJson, datasetToCsv, type ParseOptions, type LabelMode } from './data/parse.ts';
export { parseDataSpec, formatDataSpec, loadBuiltinData, type DataSpec, type BuiltinDataSpec, type BuiltinSources } from './data/spec.ts';
export { Rng } from './linalg/rng.ts';

// ---- Metrics ----
export { Measurer, type Measurement, type KktMeasurement, type KktOption } from './metrics/measure.ts';
export { kktResiduals, type KktResult } from './metrics/kkt.ts';
export { deepLinearAlignment, type Alignment } from './metrics/alignment.ts';
export { directionError, unitVector } from './metrics/direction.ts';
export { MarginEvaluator, MARGIN_BATCH_ROWS, type MarginEvaluatorOptions } from './metrics/margins.ts';

// ---- Numerics ----
export { lpNorm, dualExponent, parseNormExponent, formatNormExponent } from './linalg/norms.ts';
export { kernels, setKernels, jsKernels, elementwiseOf, elementwiseReference, type Kernels, type ElementwiseKernels } from './linalg/kernels.ts';
export { useWasmKernels, createWasmKernels, createWasmKernelsSync, wasmKernelsSupported, DEFAULT_THRESHOLDS as WASM_DEFAULT_THRESHOLDS, type WasmKernels, type WasmKernelsOptions, type WasmKernelThresholds } from './linalg/wasm/backend.ts';

// ---- Serialization and errors ----
export { stringifyExact, parseExact } from './util/exact-json.ts';
export { AdvbiasError, InputError, NonFiniteError } from './errors.ts';
