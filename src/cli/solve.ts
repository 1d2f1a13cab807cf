import { InputError } from '../errors.ts';
import { loadData } from '../node/load-data.ts';
import { solve } from '../solvers/index.ts';
import type { ProblemKind, SolverResult } from '../solvers/types.ts';
import { parseNormExponent, formatNormExponent, dualExponent } from '../linalg/norms.ts';
import { intFlag, toJson } from './output.ts';
import { INTERPOLATION_ARCHITECTURES, type InterpolationArchitecture, type InterpolationNormResult } from '../solvers/interpolation-norm.ts';

export interface SolveFlags {
  data?: string;
  problem?: string;
  q?: string;
  p?: string;
  eps?: string;
  architecture?: string;
  depth?: string;
  starts?: string;
  seed?: string;
  json?: boolean;
}

const PROBLEMS: readonly ProblemKind[] = ['svm', 'threshold', 'adversarial-svm', 'interpolation', 'interpolation-norm'];

function normFlag(name: string, text: string): number {
  const v = parseNormExponent(text);
  if (Number.isNaN(v)) throw new InputError(`invalid --${name} "${text}": must be a number ≥ 1 or "inf"`, name);
  return v;
}

/** The JSON document of a solve: {"problem", "direction", "margin", "multipliers", "kkt", "status", "solver", …}. */
export function solveDocument(r: SolverResult, dataName: string): Record<string, unknown> {
  return {
    problem: r.problem,
    direction: r.direction ? Array.from(r.direction) : null,
    margin: Number.isFinite(r.margin) ? r.margin : null,
    multipliers: r.multipliers ? Array.from(r.multipliers) : null,
    kkt: r.kkt,
    status: r.status,
    solver: r.solver,
    message: r.message,
    beta: r.beta ? Array.from(r.beta) : null,
    ...(r.mu !== undefined ? { mu: r.mu } : {}),
    ...(r.q !== undefined ? { q: formatNormExponent(r.q) } : {}),
    ...(r.p !== undefined ? { p: formatNormExponent(r.p) } : {}),
    ...(r.eps !== undefined ? { eps: r.eps } : {}),
    ...c3Fields(r),
    data: dataName,
  };
}

/** interpolation-norm: architecture, depth, every local solution with its KKT residual, the cross-check. */
function c3Fields(r: SolverResult): Record<string, unknown> {
  if (r.problem !== 'interpolation-norm' || !('local' in r)) return {};
  const c = r as InterpolationNormResult;
  return {
    architecture: c.architecture,
    depth: c.depth,
    local: c.local.map((s, i) => ({
      best: i === 0 && c.status === 'optimal',
      direction: Array.from(s.direction),
      beta: Array.from(s.beta),
      objective: s.objective,
      margin: s.margin,
      kkt: { stationarity: s.kkt.stationarity, complementarity: s.kkt.complementarity },
      starts: s.starts,
    })),
    ...(c.crossCheck ? { crossCheck: c.crossCheck } : {}),
  };
}


function fmt(v: number): string {
  const a = Math.abs(v);
  return a !== 0 && (a < 1e-3 || a >= 1e6) ? v.toExponential(6) : v.toFixed(9);
}

/** `advbias solve`: returns the exit code (0 optimal, 1 another status, 2 bad input). */
export async function solveCommand(flags: SolveFlags): Promise<number> {
  const problem = (flags.problem ?? 'svm') as ProblemKind;
  if (!PROBLEMS.includes(problem)) throw new InputError(`invalid --problem "${flags.problem}": must be one of ${PROBLEMS.join(', ')}`, 'problem');
  if (problem === 'svm' && (flags.p !== undefined || flags.eps !== undefined))
    throw new InputError('--problem svm takes --q (the SVM norm), not --p or --eps', 'q');
  if (problem !== 'svm' && flags.q !== undefined) throw new InputError(`--problem ${problem} takes --p (the perturbation norm; q is its dual), not --q`, 'p');
  let eps: number | undefined;
  if (flags.eps !== undefined) {
    eps = Number(flags.eps);
    if (flags.eps.trim() === '' || !Number.isFinite(eps) || eps < 0) throw new InputError(`invalid --eps "${flags.eps}": must be a finite number ≥ 0`, 'eps');
  }
  if ((problem === 'adversarial-svm' || problem === 'interpolation') && eps === undefined) throw new InputError(`--problem ${problem} needs --eps (the perturbation radius)`, 'eps');
  if (problem === 'threshold' && eps !== undefined) throw new InputError('--problem threshold takes no --eps: it computes the largest admissible ε', 'eps');
  if (problem === 'interpolation-norm' && eps === undefined) throw new InputError('--problem interpolation-norm needs --eps (the perturbation radius; 0 for clean training)', 'eps');
  let c3: { architecture: InterpolationArchitecture; depth: number; starts?: number; seed?: number } | undefined;
  if (problem === 'interpolation-norm') {
    const arch = flags.architecture;
    if (arch === undefined || !INTERPOLATION_ARCHITECTURES.includes(arch as InterpolationArchitecture)) {
      throw new InputError(`--problem interpolation-norm needs --architecture ${INTERPOLATION_ARCHITECTURES.join(' | ')}${arch !== undefined ? `, got "${arch}"` : ''}`, 'architecture');
    }
    c3 = {
      architecture: arch as InterpolationArchitecture,
      depth: flags.depth !== undefined ? intFlag('depth', flags.depth, 2) : 2,
      ...(flags.starts !== undefined ? { starts: intFlag('starts', flags.starts, 1) } : {}),
      ...(flags.seed !== undefined ? { seed: intFlag('seed', flags.seed, 0) } : {}),
    };
  } else {
    for (const key of ['architecture', 'depth', 'starts', 'seed'] as const) {
      if (flags[key] !== undefined) throw new InputError(`--${key} is for --problem interpolation-norm only`, key);
    }
  }
  const q = flags.q !== undefined ? normFlag('q', flags.q) : 2;
  const p = flags.p !== undefined ? normFlag('p', flags.p) : Infinity;
  const data = loadData(flags.data ?? 's2');
  if (!data.binary) throw new InputError(`--data "${data.name}" has ${data.classes} classes: the reference problems are binary (labels ±1)`, 'data');
  const r = await solve(problem, data, problem === 'svm' ? { q } : { p, eps, ...(c3 ?? {}) });
  if (flags.json) process.stdout.write(toJson(solveDocument(r, data.name)) + '\n');
  else {
    const norms = problem === 'svm' ? `q = ${formatNormExponent(q)}` : `p = ${formatNormExponent(p)} (q = ${formatNormExponent(dualExponent(p))})${eps !== undefined ? `, ε = ${eps}` : ''}`;
    const lines = [`advbias solve — ${problem} on ${data.name} (n = ${data.n}, d = ${data.d}), ${norms}`, `  status       ${r.status}${r.message ? ` — ${r.message}` : ''}`, `  solver       ${r.solver}`];
    if (r.status === 'optimal' && r.direction) {
      lines.push(`  ${problem === 'threshold' ? 'γ_q*        ' : 'margin      '} ${fmt(r.margin)}`);
      if (r.mu !== undefined) lines.push(`  μ            ${fmt(r.mu)}`);
      if (r.direction.length <= 8) {
        const angle = r.direction.length === 2 ? `, angle ${((Math.atan2(r.direction[1], r.direction[0]) * 180) / Math.PI).toFixed(9)}°` : '';
        lines.push(`  direction    (${Array.from(r.direction, (v) => v.toFixed(9)).join(', ')})${angle}`);
      }
      const k = r.kkt;
      lines.push(`  KKT          primal ${k.primalFeasibility.toExponential(1)}, dual ${k.dualFeasibility.toExponential(1)}, complementarity ${k.complementarity.toExponential(1)}, stationarity ${k.stationarity.toExponential(1)}`);
    }
    if (problem === 'interpolation-norm' && 'local' in r) {
      const c = r as InterpolationNormResult;
      lines.splice(1, 0, `  problem      min ‖${c.architecture === 'conv' ? 'Fβ' : 'β'}‖_{2/${c.depth}} s.t. z_i·β − ε‖β‖_q ≥ 1 (${c.architecture}, depth ${c.depth}${c.depth >= 3 ? ', non-convex' : ', convex'})`);
      if (c.crossCheck) lines.push(`  cross-check  ${c.crossCheck.solver}: objective ${fmt(c.crossCheck.objective)} (gap ${c.crossCheck.relativeObjectiveGap.toExponential(1)}), direction gap ${c.crossCheck.directionGap.toExponential(1)}`);
      if (c.local.length > 0) {
        lines.push(`  local solutions (best first; objective N(β) at min_i z_i·β − ε‖β‖_q = 1):`);
        c.local.forEach((s, i) => {
          const angle = s.direction.length === 2 ? `  angle ${((Math.atan2(s.direction[1], s.direction[0]) * 180) / Math.PI).toFixed(6)}°` : '';
          lines.push(`   ${i === 0 && c.status === 'optimal' ? '*' : ' '} #${i + 1}  N ${fmt(s.objective)}  Γ ${fmt(s.margin)}  KKT ${Math.max(s.kkt.stationarity, s.kkt.complementarity).toExponential(1)}  starts ${s.starts.length}${angle}`);
        });
      }
    }
    process.stdout.write(lines.join('\n') + '\n');
  }
  return r.status === 'optimal' ? 0 : 1;
}
