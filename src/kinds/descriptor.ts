/**
 * Descriptors: one object per kind of model, attack, schedule and loss, holding everything the rest
 * of advbias needs to know about that kind — its settings (a zod schema per setting, with the
 * documented default and a one-line help text), its factory and its traits. The registries, the
 * training-config schema (flat and nested), the CLI flags and their help, and the JSON Schemas are
 * all generated from these objects (src/kinds/registry.ts), so a new kind is one file that exports a
 * descriptor, one line in its family's list, and its test.
 *
 * Library code: no Node APIs.
 */
import * as z from 'zod';

/**
 * How a flag's text becomes a config value:
 *  - `int`, `number`: one number (`number` also takes a fraction `a/b`, e.g. `--eps 8/255`);
 *  - `norm`: a norm exponent: `1`, `2`, `inf`, any number ≥ 1, or `L1`/`L2`/`Linf`;
 *  - `numbers`: a comma list of numbers (fractions allowed);
 *  - `ints-or-int`: one integer or a comma list of integers (hidden widths);
 *  - `string`, `boolean` (a switch without a value), `kkt` (auto | off | all | N);
 *  - `pair`: two numbers `lo,hi` (a box).
 */
export type FlagType = 'int' | 'number' | 'norm' | 'numbers' | 'ints-or-int' | 'string' | 'boolean' | 'kkt' | 'pair';

/** One setting of a kind (or of the run): its config name, schema, help and flag. */
export interface Field {
  /** Name in the (flat) training config and in `--config` files, camelCase; the flag is its kebab-case form. */
  readonly name: string;
  /** zod schema of the value, with its default (`.default(…)`) where it has one. */
  readonly schema: z.ZodType;
  /** One line: what it is, in the units the user types. */
  readonly help: string;
  /** How a flag's text is read; null: a config-file setting only (no flag). */
  readonly flag: FlagType | null;
  /** Placeholder shown in `--help` (`<eps>`). */
  readonly placeholder?: string;
  /** Other flag names (kebab-case, without dashes) that set the same field, e.g. `alpha`. */
  readonly aliases?: readonly string[];
  /** Shown as the default in `--help` when the schema's default is not self-explanatory. */
  readonly defaultText?: string;
}

/** What every descriptor has. */
export interface KindDescriptor {
  /** Registry name (`deep-linear`, `pgd`, …): the value of `--model`, `--attack`, `--schedule`, `--loss`. */
  readonly kind: string;
  /** One line for help texts and the docs. */
  readonly summary: string;
  /**
   * The settings this kind takes, keyed by their name inside a nested config
   * (`{"attack": {"kind": "pgd", "steps": 10}}`); `Field.name` is the flat config name
   * (`attackSteps`). A setting not listed here does not apply to this kind and is rejected.
   */
  readonly fields: Readonly<Record<string, Field>>;
}

/** The strict zod object of a descriptor's nested form: `{kind, …its fields with defaults}`. */
export function nestedSchema(d: KindDescriptor): z.ZodObject {
  const shape: Record<string, z.ZodType> = { kind: z.literal(d.kind).describe(d.summary) };
  for (const [key, f] of Object.entries(d.fields)) shape[key] = f.schema.describe(f.help);
  return z.strictObject(shape);
}

/** Flat names of the fields a descriptor takes. */
export function flatNames(d: KindDescriptor): string[] {
  return Object.values(d.fields).map((f) => f.name);
}

/** Nested name of the field whose flat name is `flat`, or null when the descriptor does not take it. */
export function nestedNameOf(d: KindDescriptor, flat: string): string | null {
  for (const [key, f] of Object.entries(d.fields)) if (f.name === flat) return key;
  return null;
}

/** A family of descriptors (models, attacks, …) with lookup by kind and a clear error for unknown ones. */
export class DescriptorFamily<D extends KindDescriptor> {
  readonly name: string;
  readonly all: readonly D[];
  private readonly canonical: readonly Field[];
  /**
   * @param name the family's name (`model`, `attack`, …)
   * @param all its descriptors, in the documented order
   * @param canonical the family's settings in their general form, in the order configs list them
   *   (a descriptor may take a narrower variant, e.g. linear's depth = 1); settings that only a
   *   descriptor declares are added after them
   */
  constructor(name: string, all: readonly D[], canonical: readonly Field[] = []) {
    const seen = new Set<string>();
    for (const d of all) {
      if (seen.has(d.kind)) throw new Error(`${name}: kind "${d.kind}" is registered twice`);
      seen.add(d.kind);
    }
    this.name = name;
    this.all = all;
    this.canonical = canonical;
  }
  /** The registry names, in the documented order. */
  get kinds(): string[] {
    return this.all.map((d) => d.kind);
  }
  /** The descriptor of `kind`, or undefined. */
  find(kind: unknown): D | undefined {
    return this.all.find((d) => d.kind === kind);
  }
  /** Kinds that take the flat field `flat`. */
  kindsTaking(flat: string): string[] {
    return this.all.filter((d) => nestedNameOf(d, flat) !== null).map((d) => d.kind);
  }
  /** Every setting of the family, once per flat name: the canonical ones, then those only descriptors declare. */
  fields(): Field[] {
    const out = new Map<string, Field>();
    for (const f of this.canonical) out.set(f.name, f);
    for (const d of this.all) for (const f of Object.values(d.fields)) if (!out.has(f.name)) out.set(f.name, f);
    return [...out.values()];
  }
}
