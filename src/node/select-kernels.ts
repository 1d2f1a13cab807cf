/**
 * Which hot kernels a Node process uses (CLI, run workers, benchmarks): `ADVBIAS_KERNELS` =
 * `auto` (default: OpenBLAS when the system has it, else WebAssembly SIMD, else plain TypeScript),
 * `openblas`, `wasm` or `js`; `ADVBIAS_THREADS` = OpenBLAS threads (default 1). The choice is
 * recorded in every result as `kernels` (the kernel set's name, e.g. `openblas 0.3.21 Zen ×1`):
 * results are bit-identical for a fixed backend and thread count, and agree to rounding across them.
 */
import { jsKernels, setKernels, type Kernels } from '../linalg/kernels.ts';
import { createWasmKernels, wasmKernelsSupported } from '../linalg/wasm/backend.ts';
import { InputError } from '../errors.ts';
import { loadOpenblasKernels } from './openblas.ts';

export const KERNEL_CHOICES = ['auto', 'openblas', 'wasm', 'js'] as const;
export type KernelChoice = (typeof KERNEL_CHOICES)[number];

/** Parses `ADVBIAS_KERNELS` and `ADVBIAS_THREADS` (InputError naming the variable on a bad value). */
export function kernelSettings(env: Record<string, string | undefined> = process.env): { choice: KernelChoice; threads: number } {
  const raw = env.ADVBIAS_KERNELS ?? '';
  const choice = (raw === '' ? 'auto' : raw) as KernelChoice;
  if (!KERNEL_CHOICES.includes(choice)) throw new InputError(`ADVBIAS_KERNELS must be one of ${KERNEL_CHOICES.join(', ')}, got ${JSON.stringify(raw)}`, 'ADVBIAS_KERNELS');
  const t = env.ADVBIAS_THREADS ?? '';
  const threads = t === '' ? 1 : Number(t);
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > 256) throw new InputError(`ADVBIAS_THREADS must be an integer in 1…256, got ${JSON.stringify(t)}`, 'ADVBIAS_THREADS');
  return { choice, threads };
}

/**
 * Installs the kernels of `choice` (see the module doc) and returns them. `openblas` without a usable
 * OpenBLAS is an InputError that says why; `auto` falls back silently (the name it records says which).
 */
export async function selectKernels(choice: KernelChoice, threads = 1): Promise<Kernels> {
  let k: Kernels = jsKernels;
  if (choice === 'js') return install(k);
  const wasm = wasmKernelsSupported() ? await createWasmKernels() : null;
  if (choice === 'wasm') {
    if (!wasm) throw new InputError('ADVBIAS_KERNELS=wasm: this JavaScript engine has no WebAssembly SIMD', 'ADVBIAS_KERNELS');
    return install(wasm);
  }
  const blas = loadOpenblasKernels({ threads, fallback: wasm ?? jsKernels });
  if (blas.kernels) k = blas.kernels;
  else if (choice === 'openblas') throw new InputError(`ADVBIAS_KERNELS=openblas: ${blas.reason}`, 'ADVBIAS_KERNELS');
  else k = wasm ?? jsKernels;
  return install(k);
}

function install(k: Kernels): Kernels {
  setKernels(k);
  return k;
}

/** `selectKernels` from the environment (ADVBIAS_KERNELS, ADVBIAS_THREADS). */
export async function selectKernelsFromEnv(env: Record<string, string | undefined> = process.env): Promise<Kernels> {
  const { choice, threads } = kernelSettings(env);
  return selectKernels(choice, threads);
}
