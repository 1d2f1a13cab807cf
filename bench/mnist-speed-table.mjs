// The table of bench/run-mnist-speed.sh from the JSON files in its output folder: per workload and
// thread count, ms per step (median over rounds of each round's median step) [range over rounds] for
// advbias and PyTorch, advbias ÷ PyTorch (≤ 1: advbias as fast or faster), and the ceiling.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const GFLOP = { 'mnist-fgsm': 0.566743, 'mnist-pgd': 1.67905 };
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const rows = [];
let kernels = '';
for (const t of [1, 2]) {
  const peak = JSON.parse(readFileSync(join(dir, `peak-t${t}.json`), 'utf8'));
  for (const w of Object.keys(GFLOP)) {
    const side = (prefix) =>
      readdirSync(dir)
        .filter((f) => f.startsWith(`${prefix}-t${t}-r`) && f.endsWith('.json'))
        .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')))
        .map((doc) => {
          if (prefix === 'advbias') kernels = doc.machine.kernels;
          return doc.results.find((r) => r.id === w).usPerStepMedian / 1000;
        });
    const a = side('advbias');
    const ceiling = (GFLOP[w] / peak.gflops) * 1000;
    const fmt = (xs) => `${median(xs).toFixed(1)} [${Math.min(...xs).toFixed(1)}–${Math.max(...xs).toFixed(1)}]`;
    const label = w.replace('mnist-', '').toUpperCase().replace('PGD', 'PGD-5');
    for (const [prefix, peer] of [['torch', `torch.set_num_threads(${t}), OpenBLAS ×${t}`], ['torchblas', 'torch.set_num_threads(1), OpenBLAS ×' + t]]) {
      const p = side(prefix);
      if (p.length === 0) continue;
      rows.push(`| ${label} | ${t} | ${fmt(a)} | ${peer} | ${fmt(p)} | ${(median(a) / median(p)).toFixed(2)} | ${ceiling.toFixed(1)} (${peak.gflops.toFixed(0)} GFLOP/s) |`);
    }
  }
}
console.log(`advbias kernels: ${kernels}; rounds: ${readdirSync(dir).filter((f) => f.startsWith('advbias-t1-')).length}\n`);
console.log('| step | threads | advbias ms | PyTorch setting | PyTorch float64 ms | advbias ÷ PyTorch | ceiling ms (dgemm peak) |');
console.log('|---|---:|---:|---|---:|---:|---:|');
for (const r of rows) console.log(r);
