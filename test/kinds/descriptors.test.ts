/**
 * The kind descriptors and what is generated from them: the flat and nested training config, the
 * per-kind checks, the CLI flags and their help, the JSON Schemas (docs/schema/ must be current),
 * the experiment key checks, and the researcher conventions (--p Linf, --eps 8/255, --alpha, --clip).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseTrainConfig, nestedConfig, TRAIN_FIELDS, TrainConfigSchema, type TrainConfig } from '../../src/train/config.ts';
import { nestedSchema } from '../../src/kinds/descriptor.ts';
import { MODELS } from '../../src/models/registry.ts';
import { ATTACKS, perturbationNormOf, validateAttackConfig } from '../../src/attacks/index.ts';
import { SCHEDULES, LOSSES } from '../../src/train/schedules.ts';
import { parseExperiment } from '../../src/experiments/schema.ts';
import { schemaText } from '../../src/cli/schema.ts';
import { parseNumberText } from '../../src/util/number-text.ts';
import { parseNormExponent } from '../../src/linalg/norms.ts';
import { InputError } from '../../src/errors.ts';
import { SCRATCH } from '../support/scratch.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BIN = join(ROOT, 'bin', 'advbias.mjs');
function cli(args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: SCRATCH });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Every key of the TrainConfig type; `satisfies` makes a missing or extra key a compile error. */
const CONFIG_KEYS = {
  data: 1, model: 1, depth: 1, width: 1, leak: 1, inputShape: 1, conv: 1, dense: 1, attack: 1, p: 1, eps: 1, attackSteps: 1, attackStepSize: 1,
  randomStart: 1, clip: 1, loss: 1, schedule: 1, lr: 1, lrDecay: 1, lrDecaySteps: 1, stepForm: 1, steps: 1, batchSize: 1, initScale: 1, seed: 1, reference: 1,
  kkt: 1, evalEps: 1, evalSteps: 1, evalRestarts: 1, evalData: 1, allowInseparable: 1, record: 1,
} satisfies Record<keyof TrainConfig, 1>;

function throwsInput(f: () => unknown, ...fragments: string[]): InputError {
  let caught: unknown;
  assert.throws(f, (e: unknown) => {
    caught = e;
    return e instanceof InputError;
  });
  const err = caught as InputError;
  for (const s of fragments) assert.ok(err.message.includes(s), `"${s}" in: ${err.message}`);
  assert.ok(!err.message.includes('\n'), 'one line');
  return err;
}

const FAMILIES = [MODELS, ATTACKS, SCHEDULES, LOSSES];

describe('descriptors', () => {
  it('every kind of every family has a strict nested schema whose defaults parse', () => {
    for (const family of FAMILIES) {
      assert.ok(family.all.length >= 2, family.name);
      for (const d of family.all) {
        const parsed = nestedSchema(d).parse({ kind: d.kind }) as Record<string, unknown>;
        assert.equal(parsed.kind, d.kind);
        assert.deepEqual(Object.keys(parsed).sort(), ['kind', ...Object.keys(d.fields)].sort(), d.kind);
        assert.equal(nestedSchema(d).safeParse({ kind: d.kind, notASetting: 1 }).success, false, `${d.kind} is strict`);
        assert.ok(d.summary.length > 10 && !d.summary.includes('\n'), d.kind);
      }
    }
  });

  it('the flat config schema is generated from the fields and matches the TrainConfig type', () => {
    assert.deepEqual(Object.keys(TrainConfigSchema.shape), TRAIN_FIELDS.map((f) => f.name));
    assert.deepEqual(new Set(Object.keys(TrainConfigSchema.shape)), new Set(Object.keys(CONFIG_KEYS)));
    assert.deepEqual(new Set(Object.keys(parseTrainConfig({}))), new Set(Object.keys(CONFIG_KEYS)));
    // Every setting of every kind is a config field.
    for (const family of FAMILIES) for (const d of family.all) for (const f of Object.values(d.fields)) assert.ok(f.name in TrainConfigSchema.shape, `${d.kind}.${f.name}`);
  });

  it('traits replace kind names: FGSM is ℓ∞, linear-in-x kinds, C3 architectures, margin constants', () => {
    assert.equal(perturbationNormOf({ kind: 'fgsm', p: 2 }), Infinity);
    assert.equal(perturbationNormOf({ kind: 'pgd', p: 2 }), 2);
    const t = (k: string) => MODELS.find(k)!.traits;
    assert.deepEqual(MODELS.all.filter((d) => d.traits.linearInX).map((d) => d.kind), ['linear', 'deep-linear', 'diagonal', 'diagonal-pm', 'conv']);
    assert.equal(t('conv').c3Architecture, 'conv');
    assert.equal(t('diagonal-pm').c3Architecture, 'diagonal');
    assert.equal(t('deep-linear').referenceProblem(3), 'adversarial-svm');
    assert.equal(t('diagonal').referenceProblem(1), 'adversarial-svm');
    assert.equal(t('diagonal').referenceProblem(2), 'interpolation-norm');
    assert.equal(t('relu-mlp').referenceProblem(2), null);
    assert.equal(t('deep-linear').marginConstant(3), Math.pow(3, -1.5));
    assert.equal(t('diagonal-pm').marginConstant(4), 1);
    assert.equal(t('linear').marginConstant(1), 1);
  });
});

describe('training config: flat and nested', () => {
  const flat = { model: 'deep-linear', depth: 3, width: 5, attack: 'pgd', p: 'inf', eps: 0.1, attackSteps: 5, schedule: 'constant', lr: 0.5, loss: 'logistic' };
  const nested = {
    model: { kind: 'deep-linear', depth: 3, width: 5 },
    attack: { kind: 'pgd', p: 'inf', eps: 0.1, steps: 5 },
    schedule: { kind: 'constant', lr: 0.5 },
    loss: { kind: 'logistic' },
  };

  it('both spellings give the same config, and nestedConfig round-trips', () => {
    const a = parseTrainConfig(flat);
    assert.deepEqual(parseTrainConfig(nested), a);
    assert.deepEqual(parseTrainConfig(nestedConfig(a)), a);
    const n = nestedConfig(a) as { model: Record<string, unknown>; attack: Record<string, unknown> };
    assert.deepEqual(n.model, { kind: 'deep-linear', depth: 3, width: 5 });
    assert.equal(n.attack.steps, 5);
    assert.ok(!('leak' in n.model), 'only the kind’s own settings');
  });

  it('unknown keys are errors, at the top and inside a kind', () => {
    throwsInput(() => parseTrainConfig({ epss: 0.1 }), 'unknown field "epss"');
    const e = throwsInput(() => parseTrainConfig({ model: { kind: 'deep-linear', leak: 0.1 } }), 'model "deep-linear" has no setting "leak"', 'depth, width');
    assert.equal(e.field, 'model.leak');
    throwsInput(() => parseTrainConfig({ attack: { kind: 'exact', eps: 0.1, clip: [0, 1] } }), 'attack "exact" has no setting "clip"');
    throwsInput(() => parseTrainConfig({ model: { kind: 'nope' } }), 'model.kind "nope"', 'deep-linear');
    throwsInput(() => parseTrainConfig({ depth: 2, model: { kind: 'deep-linear', depth: 3 } }), '"depth" is given twice');
  });

  it('settings a kind leaves out take the kind’s default', () => {
    assert.equal(parseTrainConfig({ model: 'leaky-relu-mlp' }).leak, 0.1);
    assert.equal(parseTrainConfig({ model: 'relu-mlp' }).leak, 0);
    assert.equal(parseTrainConfig({ model: 'linear' }).depth, 1);
    assert.equal(parseTrainConfig({ model: 'deep-linear' }).depth, 2);
  });

  it('settings given as flags must apply to the run’s kinds', () => {
    const e = throwsInput(() => parseTrainConfig({ model: 'deep-linear', leak: 0.2 }, new Set(['leak'])), '--leak does not apply to model deep-linear', 'relu-mlp');
    assert.equal(e.field, 'leak');
    throwsInput(() => parseTrainConfig({ attack: 'fgsm', attackSteps: 3 }, new Set(['attackSteps'])), '--attack-steps does not apply to attack fgsm');
    throwsInput(() => parseTrainConfig({ schedule: 'loss-based', lrDecay: 'sqrt' }, new Set(['lrDecay'])), '--lr-decay does not apply to schedule loss-based');
    throwsInput(() => parseTrainConfig({ model: 'linear', depth: 3 }, new Set(['depth'])), 'invalid --depth 3 for model linear');
    throwsInput(() => parseTrainConfig({ model: 'leaky-relu-mlp', leak: 0 }, new Set(['leak'])), '--leak 0 for model leaky-relu-mlp', '> 0');
    assert.equal(parseTrainConfig({ model: 'linear', depth: 1 }, new Set(['depth'])).depth, 1);
    // From a config file (e.g. an experiment's base shared by several kinds) they are not checked.
    assert.equal(parseTrainConfig({ model: 'diagonal', width: 10 }).model, 'diagonal');
  });
});

describe('conventions researchers know', () => {
  it('p as L1 | L2 | Linf, ε as a fraction', () => {
    for (const [text, p] of [['Linf', Infinity], ['L2', 2], ['l1', 1], ['L∞', Infinity], ['linf', Infinity], ['inf', Infinity], ['3', 3]] as const) assert.equal(parseNormExponent(text), p, text);
    for (const bad of ['L0', 'Lx', 'L', '0.5']) assert.ok(Number.isNaN(parseNormExponent(bad)), bad);
    assert.equal(parseNumberText('8/255'), 8 / 255);
    assert.equal(parseNumberText(' 1e-3 '), 1e-3);
    assert.equal(parseNumberText('-2'), -2);
    for (const bad of ['1/0', 'a/2', '8/', '', '1//2', '0x10']) assert.ok(Number.isNaN(parseNumberText(bad)), bad);
    const c = parseTrainConfig({ attack: 'pgd', p: 'Linf', eps: '8/255', attackStepSize: '2/255', evalEps: ['4/255', 0.1] });
    assert.equal(c.p, Infinity);
    assert.equal(c.eps, 8 / 255);
    assert.equal(c.attackStepSize, 2 / 255);
    assert.deepEqual(c.evalEps, [4 / 255, 0.1]);
    throwsInput(() => parseTrainConfig({ eps: '1/0' }), 'eps');
  });

  it('an input box only for attacks that can keep it', () => {
    assert.deepEqual(validateAttackConfig({ kind: 'pgd', eps: 0.1, clip: [0, 1] }).clip, [0, 1]);
    throwsInput(() => validateAttackConfig({ kind: 'exact', eps: 0.1, clip: [0, 1] }), 'attack.clip does not apply to kind exact', 'closed form');
    throwsInput(() => validateAttackConfig({ kind: 'pgd', eps: 0.1, clip: [1, 0] }), 'lo < hi');
  });

  it('the CLI: --p Linf, --eps 8/255, --alpha, --clip; bad and repeated flags exit 2 with one line', () => {
    const ok = cli(['train', '--data', 's1', '--model', 'linear', '--attack', 'pgd', '--p', 'Linf', '--eps', '1/4', '--alpha', '1/8', '--attack-steps', '4', '--clip', '-2,2', '--steps', '10', '--json']);
    assert.equal(ok.code, 0, ok.stderr);
    const cfg = JSON.parse(ok.stdout).config;
    assert.equal(cfg.p, 'inf');
    assert.equal(cfg.eps, 0.25);
    assert.equal(cfg.attackStepSize, 0.125);
    assert.deepEqual(cfg.clip, [-2, 2]);
    for (const [args, fragment] of [
      [['--model', 'deep-linear', '--leak', '0.1'], '--leak does not apply to model deep-linear'],
      [['--model', 'linear', '--depth', '3'], '--depth 3 for model linear'],
      [['--eps', '0.1', '--eps', '0.2'], '--eps sets eps 2 times'],
      [['--attack', 'pgd', '--eps', '0.1', '--alpha', '0.1', '--attack-step-size', '0.2'], '--attack-step-size and --alpha'],
      [['--attack', 'exact', '--eps', '0.1', '--clip', '0,1'], '--clip does not apply to attack exact'],
      [['--clip', '0'], 'expected two numbers lo,hi'],
      [['--eps', 'abc'], 'invalid --eps "abc"'],
      [['--p', 'L0'], '--p'],
    ] as const) {
      const r = cli(['train', '--steps', '1', ...args]);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.includes(fragment), `${args.join(' ')}: ${r.stderr}`);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    }
  });

  it('train --help lists every kind, and each setting with the kinds it applies to', () => {
    const r = cli(['train', '--help']);
    assert.equal(r.code, 0);
    const help = r.stdout.replace(/\s+/g, ' ');
    for (const family of FAMILIES) for (const k of family.kinds) assert.ok(help.includes(k), k);
    for (const f of TRAIN_FIELDS) if (f.flag !== null) assert.ok(help.includes('--' + f.name.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())), f.name);
    assert.ok(help.includes('--alpha'));
    assert.ok(help.includes('[attack: pgd]'), 'PGD-only settings say so');
    assert.ok(help.includes('[model: relu-mlp, leaky-relu-mlp, relu-cnn]'), 'leak names its kinds');
  });
});

describe('JSON Schemas', () => {
  it('docs/schema/ holds the current generated schemas', () => {
    for (const [which, file] of [['train', 'train-config.schema.json'], ['experiment', 'experiment.schema.json']] as const) {
      assert.equal(readFileSync(join(ROOT, 'docs', 'schema', file), 'utf8'), schemaText(which), `docs/schema/${file} is stale: run node bin/advbias.mjs schema ${which} --out docs/schema/${file}`);
    }
  });

  it('the training-config schema has every field, every kind and each kind’s own settings', () => {
    const s = JSON.parse(schemaText('train')) as { properties: Record<string, { anyOf?: Array<{ enum?: string[]; oneOf?: unknown[]; anyOf?: unknown[] }> }>; additionalProperties: boolean };
    assert.deepEqual(Object.keys(s.properties), TRAIN_FIELDS.map((f) => f.name));
    assert.equal(s.additionalProperties, false);
    const text = JSON.stringify(s.properties.model);
    for (const k of MODELS.kinds) assert.ok(text.includes(`"${k}"`), k);
    // The nested leaky-relu-mlp object documents its own default slope.
    const variants = (s.properties.model.anyOf ?? []).flatMap((v) => (v.oneOf ?? v.anyOf ?? []) as Array<{ properties?: Record<string, { const?: string; default?: unknown }> }>);
    const leaky = variants.find((v) => v.properties?.kind?.const === 'leaky-relu-mlp');
    assert.ok(leaky, 'a nested schema per model kind');
    assert.equal(leaky!.properties!.leak.default, 0.1);
  });

  it('the schema command prints it; an unknown schema is a clean error', () => {
    const r = cli(['schema', 'experiment']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).title, 'advbias experiment');
    const bad = cli(['schema', 'nope']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /unknown schema "nope" \(allowed: train, experiment\)/);
  });
});

describe('experiment keys', () => {
  const exp = (extra: Record<string, unknown>) => ({
    id: 'x',
    claim: 'C1',
    title: 't',
    description: 'd',
    base: { data: 's1' },
    expectations: [{ id: 'a', description: 'b', metric: 'trainAccuracy', op: '>', value: 0 }],
    ...extra,
  });
  it('a grid or run key that is not a setting, epsFraction, run or a declared tag is an error', () => {
    throwsInput(() => parseExperiment(exp({ grid: { epss: [0.1] } }), 'x.json'), 'grid has the unknown key "epss"', 'did you mean "eps"');
    throwsInput(() => parseExperiment(exp({ runs: [{ eps: 0.1, target: 'kink' }] }), 'x.json'), 'runs[0] has the unknown key "target"', 'declared: none');
    throwsInput(() => parseExperiment(exp({ expectations: [{ id: 'a', description: 'b', metric: 'trainAccuracy', op: '>', value: 0, where: { dept: 2 } }] }), 'x.json'), 'did you mean "depth"');
    const ok = parseExperiment(exp({ tags: ['target'], runs: [{ eps: 0.1, target: 'kink' }, { epsFraction: 0.5, run: 'half' }] }), 'x.json');
    assert.deepEqual(ok.tags, ['target']);
  });
  it('every built-in experiment passes the key check (its tags are declared)', () => {
    const dir = join(ROOT, 'experiments');
    const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
    assert.ok(files.length >= 10);
    for (const f of files) parseExperiment(JSON.parse(readFileSync(join(dir, f), 'utf8')), f);
  });
});
