/**
 * Issue 13: the browser lab's speed — training steps per second in its Web Worker and frames per
 * second of the view, while playing, in headless Debian chromium (playwright-core), for S2 and a few
 * models. Target: ≥ 10,000 steps/s on S2 with the view at ≥ 30 fps. Timings never go into tests.
 *
 *   npm run build && node --import tsx bench/lab.bench.ts [--seconds 5] [--chromium /usr/bin/chromium]
 *
 * Prints a Markdown table (docs/BENCHMARKS.md, "The browser lab").
 */
import { chromium } from 'playwright-core';
import { labRoot, startLabServer } from '../src/cli/lab.ts';

const args = process.argv.slice(2);
const opt = (n: string): string | undefined => (args.includes(n) ? args[args.indexOf(n) + 1] : undefined);
const SECONDS = Number(opt('--seconds') ?? 5);
const CHROMIUM = opt('--chromium') ?? process.env.CHROMIUM ?? '/usr/bin/chromium';

const CASES: [string, string][] = [
  ['S2, deep linear L = 2, exact ℓ∞ ε = 0.3', 'preset=s2&model=deep-linear&attack=exact&p=inf&eps=0.3'],
  ['S2, deep linear L = 2, exact ℓ∞, 2000 steps per frame', 'preset=s2&model=deep-linear&attack=exact&p=inf&eps=0.3&spf=2000'],
  ['S2, diagonal L = 3, PGD ℓ2 ε = 0.3', 'preset=s2&model=diagonal&depth=3&attack=pgd&p=2&eps=0.3'],
  ['S1, conv L = 2, FGSM ε = 0.3', 'preset=s1&model=conv&attack=fgsm&eps=0.3'],
  ['sectors (24 points), ReLU MLP L = 2 width 20, FGSM ε = 0.05 (heat map)', 'preset=sectors&model=relu-mlp&width=20&attack=fgsm&eps=0.05'],
];

const { server, url } = await startLabServer(labRoot(), '127.0.0.1', 0);
const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
console.log(`| case | steps/s (worker) | frames/s (view) |\n|---|---:|---:|`);
for (const [name, query] of CASES) {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  await page.goto(`${url}?${query}`);
  await page.waitForFunction(() => (window as unknown as { advbiasLab?: { snapshot(): unknown } }).advbiasLab?.snapshot() != null);
  await page.click('#play');
  await page.waitForTimeout(1500);
  const read = () =>
    page.evaluate(() => {
      const l = (window as unknown as { advbiasLab: { frames(): number; snapshot(): { t: number } } }).advbiasLab;
      return { frames: l.frames(), t: l.snapshot().t, now: performance.now() };
    });
  const a = await read();
  await page.waitForTimeout(SECONDS * 1000);
  const b = await read();
  const sec = (b.now - a.now) / 1000;
  console.log(`| ${name} | ${Math.round((b.t - a.t) / sec).toLocaleString('en-US')} | ${((b.frames - a.frames) / sec).toFixed(1)} |`);
  await page.close();
}
await browser.close();
server.close();
