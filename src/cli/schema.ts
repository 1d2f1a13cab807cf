/**
 * `advbias schema [train|experiment]`: the JSON Schema of a training config (`--config`, an
 * experiment's `base`) or of an experiment file, generated from the kind descriptors and the zod
 * schemas. docs/schema/ holds the committed copies (a test checks they are current).
 */
import { writeFileSync } from 'node:fs';
import { InputError } from '../errors.ts';
import { prepareOutFile } from '../node/out-path.ts';
import { trainConfigJsonSchema } from '../train/config.ts';
import { experimentJsonSchema } from '../experiments/schema.ts';

export const SCHEMAS = {
  train: { file: 'train-config.schema.json', make: trainConfigJsonSchema },
  experiment: { file: 'experiment.schema.json', make: experimentJsonSchema },
} as const;

/** The schema as the text docs/schema/ holds (2-space JSON and a newline). */
export function schemaText(which: keyof typeof SCHEMAS): string {
  return JSON.stringify(SCHEMAS[which].make(), null, 2) + '\n';
}

export function schemaCommand(which: string | undefined, opts: { out?: string }): number {
  const name = which ?? 'train';
  if (!(name in SCHEMAS)) throw new InputError(`unknown schema "${name}" (allowed: ${Object.keys(SCHEMAS).join(', ')})`, 'schema');
  const text = schemaText(name as keyof typeof SCHEMAS);
  if (opts.out) {
    prepareOutFile(opts.out, '--out');
    writeFileSync(opts.out, text);
  }
  else process.stdout.write(text);
  return 0;
}
