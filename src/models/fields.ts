/**
 * The settings models take (one definition each, shared by the descriptors that take them). Their
 * defaults are the training config's: a model spec passed to `createModel` directly has its own
 * (e.g. width = d), documented there.
 */
import * as z from 'zod';
import type { Field } from '../kinds/descriptor.ts';

const int = (min: number) => z.number({ error: 'must be a number' }).int({ error: 'must be an integer' }).min(min, { error: `must be ≥ ${min}` });

/**
 * The deepest model a config may ask for. Far beyond the paper's (L ≤ 4) and any experiment here;
 * each layer costs a pass per step and ρ^L leaves float64 for modest ρ long before, so a larger
 * value is a typo (`--depth 1e6`), refused before the model's layer list is built.
 */
export const MAX_DEPTH = 1000;

/** L, the number of weight layers (homogeneity order). */
export const depthField = (help = 'number of weight layers L (the homogeneity order)'): Field => ({
  name: 'depth',
  schema: int(1).max(MAX_DEPTH, { error: `must be ≤ ${MAX_DEPTH}` }).default(2),
  help,
  flag: 'int',
  placeholder: 'L',
});

/** Hidden widths of the dense layers. */
export const widthField: Field = {
  name: 'width',
  schema: z.union([int(1), z.array(int(1))], { error: 'must be an integer ≥ 1 or a list of them' }).default(10),
  help: 'hidden width m, or a comma list with one width per hidden layer',
  flag: 'ints-or-int',
  placeholder: 'm',
};

/** Leaky-ReLU slope a: σ(z) = max(z, a·z); in [0, 1), or (0, 1) when `open`. */
export const leakField = (defaultLeak = 0, open = false): Field => ({
  name: 'leak',
  schema: (open ? z.number({ error: 'must be a number' }).gt(0, { error: 'must be > 0' }) : z.number({ error: 'must be a number' }).min(0, { error: 'must be ≥ 0' }))
    .lt(1, { error: 'must be < 1' })
    .default(defaultLeak),
  help: `leaky-ReLU slope a in ${open ? '(0, 1)' : '[0, 1)'}: σ(z) = max(z, a·z)${open ? '' : ' (0: ReLU)'}`,
  flag: 'number',
  placeholder: 'a',
});

/** relu-cnn: [C, H, W] of the flat channel-major inputs. */
export const inputShapeField: Field = {
  name: 'inputShape',
  schema: z.tuple([int(1), int(1), int(1)], { error: 'must be [channels, height, width]' }).nullable().default(null),
  help: '[channels, height, width] of the flat, channel-major inputs (product d); null: [1, 28, 28] when d = 784 (MNIST)',
  flag: null,
};

const ConvLayerSchema = z.strictObject({
  channels: int(1),
  kernel: int(1),
  stride: int(1).default(1),
  pool: z
    .strictObject({
      kind: z.enum(['max', 'avg'], { error: 'must be max or avg' }),
      size: int(1),
    })
    .nullable()
    .default(null),
});

/**
 * Default relu-cnn conv stack, LeNet-like: 8 filters 5×5 + max-pool 2, then 16 filters 5×5 + max-pool 2
 * (on MNIST's 1×28×28: 8×12×12, then 16×4×4 = 256 features for the output layer).
 * A function, so that every parsed config gets its own copy.
 */
export const defaultConvStack = () => [
  { channels: 8, kernel: 5, stride: 1, pool: { kind: 'max' as const, size: 2 } },
  { channels: 16, kernel: 5, stride: 1, pool: { kind: 'max' as const, size: 2 } },
];

/** relu-cnn conv layers. */
export const convField: Field = {
  name: 'conv',
  schema: z.array(ConvLayerSchema).min(1, { error: 'must have at least one layer' }).default(defaultConvStack),
  help: 'conv layers {channels, kernel, stride = 1, pool = null | {kind: max | avg, size}}; default 8@5×5 max-pool 2, 16@5×5 max-pool 2',
  flag: null,
};

/** relu-cnn dense hidden widths after the convs. */
export const denseField: Field = {
  name: 'dense',
  schema: z.array(int(1)).default(() => []),
  help: 'hidden widths of the dense ReLU layers after the convs (default none)',
  flag: null,
};
