/**
 * How `advbias train` records its run in the run store: begun as `running` before training,
 * completed with the whole result document (what `train --json` prints: config, final, history, run,
 * and whatever else the document holds, e.g. the trained parameters), or failed with the message.
 * An interrupted run (Ctrl-C) is completed with what was computed: status `done`, and
 * `run.interrupted: true` in its result.
 */
import { MODELS } from '../models/registry.ts';
import { ATTACKS } from '../attacks/index.ts';
import { randomUUID } from 'node:crypto';
import { codeVersion } from '../node/code-version.ts';
import { DEFAULT_STORE_PATH, openRunStore, storeBesideOut, type RunStore } from '../node/store.ts';

/** The experiment name of every `advbias train` run in the store. */
export const TRAIN_EXPERIMENT = 'train';

/**
 * Where `train` records its run: `--store FILE`; else `runs.sqlite` beside the `--out` folder
 * (`--out results/exp1` → `results/runs.sqlite`); else `out/runs.sqlite`. null for `--no-store`.
 */
export function trainStoreLocation(store: string | boolean | undefined, out: string | null): string | null {
  if (store === false) return null;
  if (typeof store === 'string') return store;
  return out !== null ? storeBesideOut(out) : DEFAULT_STORE_PATH;
}

/**
 * A short description of a training config: `deep-linear L=3 exact p=inf eps=0.25` (`clean` without
 * attack). Only what the kinds take is shown: no depth for `linear` (its depth is fixed), no p for
 * `fgsm` (its norm is fixed), nothing for an attack that does not perturb.
 */
export function trainLabel(config: Record<string, unknown>): string {
  const model = MODELS.find(config.model);
  const attack = ATTACKS.find(config.attack ?? 'none');
  const parts = [String(config.model ?? '?')];
  if (config.depth !== undefined && model?.fields.depth && model.fields.depth.schema.safeParse(2).success) parts.push(`L=${String(config.depth)}`);
  if (!attack || !attack.traits.perturbs) parts.push('clean');
  else parts.push(attack.kind, ...(attack.traits.fixedNorm !== null ? [] : [`p=${String(config.p)}`]), `eps=${String(config.eps)}`);
  return parts.join(' ');
}

/** A `train` run begun in a store. */
export interface TrainRecord {
  readonly store: RunStore;
  readonly key: string;
  readonly id: number;
}

/** Opens the store at `location` and begins the run there (status `running`). */
export async function beginTrainRecord(location: string, config: Record<string, unknown>): Promise<TrainRecord> {
  const store = await openRunStore(location);
  try {
    // Every train invocation is its own run (nothing is reused), so the key is unique.
    const key = `train:${randomUUID()}`;
    const seed = typeof config.seed === 'number' ? config.seed : null;
    const id = await store.begin({ key, experiment: TRAIN_EXPERIMENT, label: trainLabel(config), config, seed, codeVersion: codeVersion() });
    return { store, key, id };
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Completes the run with the result document (its `final` and `history` also stored on their own). */
export async function completeTrainRecord(record: TrainRecord, doc: Record<string, unknown>): Promise<void> {
  await record.store.complete(record.key, { final: doc.final, history: doc.history, result: doc });
}
