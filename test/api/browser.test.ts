/**
 * The library bundles for the browser: esbuild (platform browser) bundles src/index.ts; the library's
 * own modules import no Node built-in, and the bundle evaluates and trains in a fresh JavaScript
 * context with none of Node's globals (no process, require, Buffer), the WebAssembly kernels included.
 *
 * The solvers' emscripten packages (HiGHS, GLPK, SCS) carry Node-only branches that import `module`
 * (createRequire) and then require `node:fs` etc. at run time under `ENVIRONMENT_IS_NODE`. A browser
 * bundle replaces `module` with an empty module, as Vite does by default and webpack does with
 * `resolve.fallback: { module: false }` (README, "Use it as a library"); the plugin below does it here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import vm from 'node:vm';
import { join, relative } from 'node:path';
import * as esbuild from 'esbuild';
import { ROOT } from './built.ts';
import { TOL } from '../support/tolerance.ts';

/** The third-party packages allowed to reach for a Node built-in (in branches a browser never takes). */
const NODE_BRANCH_PACKAGES = ['glpk.js', 'highs', 'scs-solver'];
const NODE_BUILTIN = /^(node:)?(module|fs|path|url|crypto|os|util|worker_threads|child_process|perf_hooks|process|buffer|stream)$/;

interface Bundle {
  code: string;
  /** Each Node built-in the bundle asked for, with the file (relative to the root) that asked. */
  stubbed: { specifier: string; importer: string }[];
}

async function bundle(format: 'esm' | 'iife'): Promise<Bundle> {
  const stubbed: Bundle['stubbed'] = [];
  const result = await esbuild.build({
    entryPoints: [join(ROOT, 'src', 'index.ts')],
    bundle: true,
    platform: 'browser',
    format,
    globalName: format === 'iife' ? 'advbias' : undefined,
    write: false,
    logLevel: 'silent',
    plugins: [
      {
        name: 'empty-node-builtins',
        setup(build) {
          build.onResolve({ filter: NODE_BUILTIN }, (args) => {
            stubbed.push({ specifier: args.path, importer: relative(ROOT, args.importer) });
            return { path: args.path, namespace: 'empty' };
          });
          build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
        },
      },
    ],
  });
  assert.deepEqual(result.errors, []);
  return { code: result.outputFiles[0].text, stubbed };
}

test('the browser bundle: no Node built-in from the library itself, no node: import left in the output', async () => {
  const { code, stubbed } = await bundle('esm');
  assert.ok(stubbed.length > 0, 'the emscripten solver packages do ask for `module` (else this test checks nothing)');
  for (const { specifier, importer } of stubbed) {
    const pkg = NODE_BRANCH_PACKAGES.find((p) => importer.startsWith(join('node_modules', p) + '/'));
    assert.ok(pkg !== undefined, `${importer} imports the Node built-in ${specifier}: the library must run in browsers`);
    assert.ok(specifier === 'module' || specifier === 'node:module', `${importer} imports ${specifier}`);
  }
  // Static or dynamic imports of node: modules would fail in a browser; `require2("node:fs")` inside an
  // ENVIRONMENT_IS_NODE branch of emscripten glue is a run-time call a browser never makes.
  assert.doesNotMatch(code, /\bimport\s*(\(\s*)?["']node:|\bfrom\s*["']node:/);
  for (const m of code.matchAll(/["']node:[a-z_]+["']/g)) {
    const before = code.slice(Math.max(0, m.index - 2000), m.index);
    assert.ok(before.includes('ENVIRONMENT_IS_NODE'), `a node: specifier outside an emscripten Node branch: ${code.slice(m.index - 80, m.index + 20)}`);
  }
});

test('the bundle evaluates and trains in a context without Node globals, with the WebAssembly kernels', async () => {
  const { code } = await bundle('iife');
  // A browser-like global object: Web APIs the library uses (atob for the embedded wasm, setTimeout
  // for trainAsync), nothing of Node's.
  const context = vm.createContext({ atob, setTimeout });
  vm.runInContext(code, context);
  assert.equal(vm.runInContext('typeof process + typeof require + typeof Buffer', context), 'undefinedundefinedundefined');
  const out = (await vm.runInContext(
    `(async () => {
      const a = advbias;
      await a.useWasmKernels();
      const data = a.s2();
      const options = {
        model: a.createModel({ kind: 'deep-linear', inputDim: data.d, depth: 3 }),
        data,
        attack: a.validateAttackConfig({ kind: 'exact', p: Infinity, eps: 0.25 }),
        loss: 'exp',
        schedule: { kind: 'loss-scaled', lr: 0.1, decay: 'sqrt', form: 'sphere' },
        steps: 20000, batchSize: 0, initScale: 1, seed: 0,
      };
      const r = await a.trainAsync(options, 20);
      return JSON.stringify({ kernels: a.kernels().name, predictor: r.final.predictor, steps: r.stepsDone });
    })()`,
    context,
  )) as string;
  const r = JSON.parse(out) as { kernels: string; predictor: number[]; steps: number };
  assert.equal(r.kernels, 'wasm');
  assert.equal(r.steps, 20000);
  // docs/THEORY.md §8: depth 3, exact ℓ∞, ε = 0.25 on S2 converges to atan(1/3) = 18.4349°.
  const angle = (Math.atan2(r.predictor[1], r.predictor[0]) * 180) / Math.PI;
  assert.ok(Math.abs(angle - (Math.atan(1 / 3) * 180) / Math.PI) <= TOL.trainedDirectionDegrees, `trained angle ${angle}°`);
});
