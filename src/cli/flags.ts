/**
 * The flags of `advbias train` (and of commands that take the same settings), generated from the
 * training config's fields (src/train/config.ts `TRAIN_FIELDS`, themselves generated from the kind
 * descriptors): one flag per field, its help with the kinds it applies to and its default, and the
 * parsing of its text into a config value.
 */
import { Option, type Command } from 'commander';
import { InputError } from '../errors.ts';
import { TRAIN_FIELDS, flagName } from '../train/config.ts';
import type { Field } from '../kinds/descriptor.ts';
import { MODELS } from '../models/registry.ts';
import { ATTACKS } from '../attacks/index.ts';
import { SCHEDULES, LOSSES } from '../train/schedules.ts';
import { parseNumberText } from '../util/number-text.ts';

/** Flags as commander hands them over (strings, booleans; repeated flags as string arrays). */
export interface SettingFlags {
  [key: string]: string | boolean | string[] | undefined;
}

const FAMILIES = { model: MODELS, attack: ATTACKS, schedule: SCHEDULES, loss: LOSSES } as const;

/** The default a flag's help shows: the schema's default (or the field's own text). */
function defaultText(f: Field): string | null {
  if (f.defaultText) return f.defaultText;
  const r = f.schema.safeParse(undefined);
  if (!r.success || r.data === null || r.data === undefined || r.data === false) return null;
  if (r.data === Infinity) return 'inf';
  return Array.isArray(r.data) || typeof r.data === 'object' ? null : String(r.data);
}

/** The help line of a field's flag: its help, the kinds it applies to, its default. */
function helpOf(f: Field & { family: keyof typeof FAMILIES | null }): string {
  let text = f.help;
  if (f.family !== null && f.name !== f.family) {
    const family = FAMILIES[f.family];
    const takers = family.kindsTaking(f.name);
    if (takers.length < family.all.length) text += ` [${f.family}: ${takers.join(', ')}]`;
  }
  const def = defaultText(f);
  return def === null ? text : `${text} (default ${def})`;
}

/** Add one option per flag-able training setting to `cmd` (aliases as extra options). */
export function addSettingOptions(cmd: Command, only?: (name: string) => boolean): Command {
  for (const f of TRAIN_FIELDS) {
    if (f.flag === null || (only && !only(f.name))) continue;
    const flag = flagName(f.name);
    const spec = f.flag === 'boolean' ? flag : `${flag} <${f.placeholder ?? 'value'}>`;
    cmd.addOption(new Option(spec, helpOf(f)).argParser(collect));
    for (const alias of f.aliases ?? []) {
      cmd.addOption(new Option(f.flag === 'boolean' ? `--${alias}` : `--${alias} <${f.placeholder ?? 'value'}>`, `same as ${flag}`).argParser(collect));
    }
  }
  return cmd;
}

/** Keeps every occurrence of a repeated flag, so that `--eps 1 --eps 2` can be refused rather than one silently winning. */
function collect(value: string, previous: unknown): string | string[] {
  if (previous === undefined) return value;
  return Array.isArray(previous) ? [...previous, value] : [previous as string, value];
}

function camel(kebab: string): string {
  return kebab.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

function number(field: string, text: string, flag: string): number {
  const v = parseNumberText(text);
  if (!Number.isFinite(v)) throw new InputError(`invalid ${flag} "${text}": expected a number (a fraction such as 8/255 is fine)`, field);
  return v;
}

/** One flag's text as the config value its field takes. */
function parseFlagText(f: Field, text: string, flag: string): unknown {
  switch (f.flag) {
    case 'int':
    case 'number':
      return number(f.name, text, flag);
    case 'numbers':
      return text.split(',').map((t) => number(f.name, t, flag));
    case 'ints-or-int': {
      const parts = text.split(',').map((t) => number(f.name, t, flag));
      return parts.length === 1 ? parts[0] : parts;
    }
    case 'pair': {
      const parts = text.split(',').map((t) => number(f.name, t, flag));
      if (parts.length !== 2) throw new InputError(`invalid ${flag} "${text}": expected two numbers lo,hi (e.g. 0,1)`, f.name);
      return parts;
    }
    case 'kkt': {
      const t = text.trim();
      return /^[0-9]+$/.test(t) ? Number(t) : t;
    }
    default:
      return text;
  }
}

/**
 * The raw config values the flags set (to be merged over a config file and validated by
 * `parseTrainConfig`), and the set of fields they set. A flag given twice (or with its alias) is an
 * error naming it.
 */
export function settingsFromFlags(flags: SettingFlags): { raw: Record<string, unknown>; fromFlags: Set<string> } {
  const raw: Record<string, unknown> = {};
  const fromFlags = new Set<string>();
  for (const f of TRAIN_FIELDS) {
    if (f.flag === null) continue;
    const names = [f.name, ...(f.aliases ?? []).map(camel)];
    const given = names.filter((n) => flags[n] !== undefined);
    if (given.length === 0) continue;
    const flag = flagName(f.name);
    const values = given.flatMap((n) => (Array.isArray(flags[n]) ? (flags[n] as string[]) : [flags[n]]));
    if (values.length > 1) {
      throw new InputError(`${given.map((n) => flagName(n)).join(' and ')} set${given.length === 1 ? 's' : ''} ${f.name} ${values.length} times (${values.map((v) => JSON.stringify(v)).join(', ')}): give ${flag} once`, f.name);
    }
    const v = values[0];
    raw[f.name] = f.flag === 'boolean' ? v === true : parseFlagText(f, String(v), flag);
    fromFlags.add(f.name);
  }
  return { raw, fromFlags };
}
