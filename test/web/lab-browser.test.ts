/**
 * The lab in a real browser (playwright-core driving Debian's chromium, which .ci/run installs):
 * `advbias lab` serves the built page; the page loads a preset, takes a clicked point, trains in its
 * worker, and its displayed angle converges to 0 against a prediction that matches the library's own
 * solver (computed here in Node); a screenshot of the data plane after a fixed number of steps matches
 * the committed one. Needs `npm run build` (npm test runs it first). CHROMIUM overrides the browser.
 * UPDATE_LAB_SCREENSHOT=1 rewrites the reference screenshot.
 */
import test, { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import type { Server } from 'node:http';
import { chromium, type Browser, type Page } from 'playwright-core';
import { labRoot, startLabServer } from '../../src/cli/lab.ts';
import { solve } from '../../src/solvers/index.ts';
import { angleDeg } from '../../web/src/planar.ts';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const haveBrowser = existsSync(CHROMIUM);
const SHOT = new URL('./fixtures/lab-plane-s2.png', import.meta.url).pathname;

let server: Server;
let url: string;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(`${labRoot()}/index.html`), 'dist/web is missing: run npm run build');
  ({ server, url } = await startLabServer(labRoot(), '127.0.0.1', 0));
  if (haveBrowser) browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});
after(async () => {
  await browser?.close();
  server?.close();
});

interface LabHandle {
  state(): { points: { x: number; y: number; label: number }[]; preset: string };
  references(): { adv: { direction: [number, number] } | null; predicted: string | null } | null;
  snapshot(): { t: number; angleDeg: number | null } | null;
}

async function open(query: string): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${url}?${query}`);
  await page.waitForFunction(() => (window as unknown as { advbiasLab?: { snapshot(): unknown } }).advbiasLab?.snapshot() != null);
  return { page, errors };
}

/** Share of pixels whose channels differ by > 24 between two PNGs (base64), compared in the page. */
async function pixelDiff(page: Page, a: string, b: string): Promise<{ share: number; size: string }> {
  // Written as a string: tsx would wrap named functions in a helper that does not exist in the page.
  return (await page.evaluate(`(async () => {
    const load = (src) => new Promise((res, rej) => { const im = new Image(); im.onload = () => res(im); im.onerror = rej; im.src = 'data:image/png;base64,' + src; });
    const [ia, ib] = await Promise.all([load(${JSON.stringify(a)}), load(${JSON.stringify(b)})]);
    if (ia.width !== ib.width || ia.height !== ib.height) return { share: 1, size: ia.width + '×' + ia.height + ' vs ' + ib.width + '×' + ib.height };
    const px = (im) => { const c = document.createElement('canvas'); c.width = im.width; c.height = im.height; const g = c.getContext('2d'); g.drawImage(im, 0, 0); return g.getImageData(0, 0, c.width, c.height).data; };
    const da = px(ia), db = px(ib);
    let bad = 0;
    for (let k = 0; k < da.length; k += 4) if (Math.max(Math.abs(da[k] - db[k]), Math.abs(da[k + 1] - db[k + 1]), Math.abs(da[k + 2] - db[k + 2])) > 24) bad++;
    return { share: bad / (da.length / 4), size: ia.width + '×' + ia.height };
  })()`)) as { share: number; size: string };
}

const lab = (page: Page) => ({
  state: () => page.evaluate(() => (window as unknown as { advbiasLab: LabHandle }).advbiasLab.state()),
  references: () => page.evaluate(() => (window as unknown as { advbiasLab: LabHandle }).advbiasLab.references()),
  snapshot: () => page.evaluate(() => (window as unknown as { advbiasLab: LabHandle }).advbiasLab.snapshot()),
});

test('advbias lab prints its URL, serves the page and stops on SIGTERM with exit 0', async () => {
  const child = spawn(process.execPath, ['bin/advbias.mjs', 'lab', '--port', '0'], { cwd: new URL('../../', import.meta.url).pathname });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  const addr = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no URL printed: ${out}`)), 20000);
    child.stdout.on('data', () => {
      const m = /advbias lab: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) {
        clearTimeout(t);
        resolve(m[1]);
      }
    });
  });
  const res = await fetch(addr);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /advbias lab/);
  assert.equal((await fetch(`${addr}no-such-file.js`)).status, 404);
  const code = await new Promise<number | null>((resolve) => {
    child.on('exit', resolve);
    child.kill('SIGTERM');
  });
  assert.equal(code, 0);
});

test('advbias lab --port refuses a bad port with exit 2 and names the flag', async () => {
  const child = spawn(process.execPath, ['bin/advbias.mjs', 'lab', '--port', 'http'], { cwd: new URL('../../', import.meta.url).pathname });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  assert.equal(code, 2);
  assert.match(err, /invalid --port "http"/);
});

test('preset, click to add a point, play: the displayed angle converges to the prediction, which matches the library solver', { skip: haveBrowser ? false : `no browser at ${CHROMIUM}` }, async () => {
  const { page, errors } = await open('preset=s1&model=deep-linear&attack=exact&p=inf&eps=0.3');
  // Load a preset through the control.
  await page.selectOption('#f-preset', 's2');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('preset') === 's2');
  let st = await lab(page).state();
  assert.equal(st.points.length, 2);
  // Click the plane at world (≈2.06, ≈2.06): the box is ±(3 + 0.3)·1.25 = ±4.125 over 560 px.
  await page.click('#plane', { position: { x: 420, y: 140 } });
  await page.waitForFunction(() => new URLSearchParams(location.search).get('pts')!.split(';').length === 3);
  st = await lab(page).state();
  assert.equal(st.points.length, 3);
  assert.equal(st.points[2].label, 1);
  assert.ok(Math.abs(st.points[2].x - 2.0625) < 0.02 && Math.abs(st.points[2].y - 2.0625) < 0.02, JSON.stringify(st.points[2]));
  assert.equal(st.preset, '');
  // The page's prediction against the library's adversarial SVM (quadprog/HiGHS) on the same points.
  await page.waitForFunction(() => (window as unknown as { advbiasLab: LabHandle }).advbiasLab.references() !== null);
  const refs = await lab(page).references();
  assert.equal(refs!.predicted, 'adv');
  const X = new Float64Array(st.points.flatMap((p) => [p.x, p.y]));
  const data = { name: 'lab', n: st.points.length, d: 2, X, y: Int32Array.from(st.points.map((p) => p.label)), binary: true, classes: 2 };
  const lib = await solve('adversarial-svm', data, { p: Infinity, eps: 0.3 });
  assert.equal(lib.status, 'optimal');
  const [u0, u1] = refs!.adv!.direction;
  assert.ok(angleDeg(u0, u1, lib.direction![0], lib.direction![1]) < 1e-5);
  // Train: the angle shown on the page falls below 1e-3 degrees.
  const start = Number(await page.getAttribute('#angle', 'data-value'));
  assert.ok(start > 1, `angle at t = 0: ${start}°`);
  await page.click('#play');
  await page.waitForFunction(() => Number(document.getElementById('angle')!.dataset.value) < 1e-3, undefined, { timeout: 30000 });
  await page.click('#play');
  const shown = Number(await page.getAttribute('#angle', 'data-value'));
  const snap = await lab(page).snapshot();
  assert.ok(snap!.t > 0 && shown < 1e-3);
  assert.match((await page.textContent('#angle'))!, /°$/);
  assert.deepEqual(errors, []);
  await page.close();
});

test('a bad URL parameter is reported on the page, and the lab falls back to the defaults', { skip: haveBrowser ? false : `no browser at ${CHROMIUM}` }, async () => {
  const { page } = await open('model=resnet');
  assert.match((await page.textContent('#message'))!, /model=resnet is not allowed/);
  assert.equal((await lab(page).state()).preset, 's2');
  await page.close();
});

test('the data plane after 300 steps on S2 matches the reference screenshot', { skip: haveBrowser ? false : `no browser at ${CHROMIUM}` }, async () => {
  const { page, errors } = await open('preset=s2&model=deep-linear&attack=exact&p=inf&eps=0.3&spf=100');
  for (let k = 0; k < 3; k++) await page.click('#step-once');
  await page.waitForFunction(() => (window as unknown as { advbiasLab: LabHandle }).advbiasLab.snapshot()?.t === 300);
  // Two animation frames: the last snapshot is drawn.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const png = await page.locator('#plane').screenshot();
  if (process.env.UPDATE_LAB_SCREENSHOT === '1' || !existsSync(SHOT)) {
    if (process.env.UPDATE_LAB_SCREENSHOT !== '1') assert.fail(`no reference screenshot at ${SHOT}: run with UPDATE_LAB_SCREENSHOT=1 once`);
    writeFileSync(SHOT, png);
  }
  const ref = readFileSync(SHOT).toString('base64');
  const now = png.toString('base64');
  const diff = await pixelDiff(page, ref, now);
  assert.ok(diff.share < 0.01, `${(diff.share * 100).toFixed(2)} % of the pixels differ (${diff.size})`);
  // The comparison can fail: the same page back at t = 0 (a random direction) differs widely.
  await page.click('#reset');
  await page.waitForFunction(() => (window as unknown as { advbiasLab: LabHandle }).advbiasLab.snapshot()?.t === 0);
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
  const atZero = await pixelDiff(page, ref, (await page.locator('#plane').screenshot()).toString('base64'));
  assert.ok(atZero.share > 0.05, `t = 0 differs from t = 300 on only ${(atZero.share * 100).toFixed(2)} % of the pixels`);
  assert.deepEqual(errors, []);
  await page.close();
});

test('CSV import, p typed as any number, and a ReLU net with its heat map run without errors', { skip: haveBrowser ? false : `no browser at ${CHROMIUM}` }, async () => {
  const { page, errors } = await open('preset=s2&model=deep-linear&attack=exact&p=inf&eps=0.3');
  await page.setInputFiles('#import-csv', { name: 'pts.csv', mimeType: 'text/csv', buffer: Buffer.from('x,y,label\n1,1,1\n-1,-1.5,-1\n2,0.5,1\n') });
  await page.waitForFunction(() => new URLSearchParams(location.search).get('pts') === '1,1,1;-1,-1.5,-1;2,0.5,1');
  await page.fill('#f-p', '3');
  await page.dispatchEvent('#f-p', 'change');
  await page.waitForFunction(() => new URLSearchParams(location.search).get('p') === '3');
  // A bad p is named on the page and leaves the state alone.
  await page.fill('#f-p', '0.5');
  await page.dispatchEvent('#f-p', 'change');
  assert.match((await page.textContent('#message'))!, /p: "0.5" is not allowed/);
  assert.equal(new URL(page.url()).searchParams.get('p'), '3');
  // ReLU MLP on the sectors preset: no prediction (angle '—'), a heat map, steps taken.
  await page.goto(`${url}?preset=sectors&model=relu-mlp&width=20&attack=fgsm&eps=0.05`);
  await page.waitForFunction(() => (window as unknown as { advbiasLab?: { snapshot(): unknown } }).advbiasLab?.snapshot() != null);
  await page.click('#play');
  await page.waitForFunction(() => ((window as unknown as { advbiasLab: LabHandle }).advbiasLab.snapshot()?.t ?? 0) > 1000);
  await page.click('#play');
  assert.equal(await page.textContent('#angle'), '—');
  assert.deepEqual(errors, []);
  await page.close();
});

