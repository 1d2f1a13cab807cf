/**
 * Node-only rendering of figure specs: vega-lite → vega → SVG (headless view, no canvas) → PNG
 * (resvg). Nothing is fetched: data are inline and fonts are local files.
 */
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import type * as Vega from 'vega';
import { InputError } from '../errors.ts';
import type { FigureSpec } from '../report/figures.ts';

/** Debian's fonts-dejavu-core, part of this project's machine image (and of most Linux images). */
const DEJAVU_DIR = '/usr/share/fonts/truetype/dejavu';
/** DejaVu Sans covers Greek, math symbols and combining marks (ε, γ̄, ‖β‖, ℓ∞) used in titles. */
export const DEFAULT_FONT_FILES: readonly string[] = [
  'DejaVuSans.ttf',
  'DejaVuSans-Bold.ttf',
  'DejaVuSans-Oblique.ttf',
  'DejaVuSans-BoldOblique.ttf',
].map((file) => join(DEJAVU_DIR, file));
/** The family every text is drawn in: vega's `sans-serif` and any family not in the font files map to it. */
export const DEFAULT_FONT_FAMILY = 'DejaVu Sans';
/** PNG pixels per CSS pixel of the spec: 2 keeps lines and text sharp in documents. */
export const DEFAULT_PIXEL_RATIO = 2;

/** Options of {@link renderFigure}. */
export interface RenderOptions {
  /** PNG pixels per CSS pixel; the PNG is (width · ratio) × (height · ratio). Default {@link DEFAULT_PIXEL_RATIO}. */
  readonly pixelRatio?: number;
  /** TrueType/OpenType files for the PNG (resvg reads no WOFF). Default {@link DEFAULT_FONT_FILES}. */
  readonly fontFiles?: readonly string[];
  /** Family the PNG's text falls back to. Default {@link DEFAULT_FONT_FAMILY}. */
  readonly fontFamily?: string;
}

/** A rendered figure and what vega-lite and vega warned about while making it (empty when clean). */
export interface RenderedFigure {
  readonly svg: string;
  readonly png: Uint8Array;
  readonly warnings: string[];
}

type VegaModule = typeof Vega;
type VegaLiteCompile = (typeof import('vega-lite'))['compile'];
let libs: Promise<{ vega: VegaModule; compile: VegaLiteCompile }> | null = null;

/** vega and vega-lite, loaded on the first render (~0.5 s of module loading a run without figures skips). */
function renderLibs(): Promise<{ vega: VegaModule; compile: VegaLiteCompile }> {
  libs ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => ({ vega: vega as VegaModule, compile: vl.compile }));
  return libs;
}

/** A vega logger that keeps warnings and errors instead of printing them. */
function collectingLogger(vega: VegaModule, warnings: string[]): Vega.LoggerInterface {
  let level = vega.Warn;
  const keep = (kind: string) => (...args: readonly unknown[]) => {
    warnings.push(`${kind}: ${args.map(String).join(' ')}`);
    return logger;
  };
  const logger: Vega.LoggerInterface = {
    level(value?: number) {
      if (value === undefined) return level;
      level = value;
      return logger;
    },
    error: keep('error'),
    warn: keep('warning'),
    info: () => logger,
    debug: () => logger,
  } as Vega.LoggerInterface;
  return logger;
}

/** Renders one SVG at a time: see {@link svgOf}. */
let svgQueue: Promise<unknown> = Promise.resolve();

/**
 * The SVG of a vega spec. vega numbers clip paths and gradients (`clip1`, `gradient_0`) with
 * process-wide counters, so the same spec would get other ids on a second render; the counters are
 * reset before each render, and renders are queued so that two in flight cannot interleave.
 */
function svgOf(vega: VegaModule, vgSpec: Vega.Spec, logger: Vega.LoggerInterface): Promise<string> {
  const render = async () => {
    vega.resetSVGDefIds();
    const view = new vega.View(vega.parse(vgSpec), { renderer: 'none', logger });
    try {
      return await view.toSVG();
    } finally {
      view.finalize();
    }
  };
  const result = svgQueue.then(render, render);
  svgQueue = result.catch(() => undefined);
  return result;
}

/**
 * Compiles a vega-lite spec and renders it: the SVG (CSS pixels, text as `<text>` elements) and a
 * PNG of it with local fonts. Same spec → same SVG bytes: vega measures text by an estimate (no
 * canvas), so the SVG does not depend on which fonts a machine has; the PNG does (default: DejaVu).
 * Throws an {@link InputError} when a font file is missing; compile errors are thrown as vega-lite
 * throws them.
 */
export async function renderFigure(spec: FigureSpec, options: RenderOptions = {}): Promise<RenderedFigure> {
  const { svg, warnings } = await renderSvg(spec);
  return { svg, png: svgToPng(svg, options), warnings };
}

/** The SVG of a vega-lite spec alone (no fonts needed), as in {@link renderFigure}. */
export async function renderSvg(spec: FigureSpec): Promise<{ svg: string; warnings: string[] }> {
  const { vega, compile } = await renderLibs();
  const warnings: string[] = [];
  const logger = collectingLogger(vega, warnings);
  // A copy: vega tags every data row it ingests with a symbol-keyed id, which would leak into `spec`.
  const { spec: vgSpec } = compile(structuredClone(spec), { logger });
  const svg = await svgOf(vega, vgSpec, logger);
  return { svg, warnings };
}

/**
 * The PNG of an SVG, drawn by resvg with only the given font files (no system fonts, so the
 * pixels do not depend on what else a machine has installed). Throws an {@link InputError} when a
 * font file is missing.
 */
export function svgToPng(svg: string, options: RenderOptions = {}): Uint8Array {
  const pixelRatio = options.pixelRatio ?? DEFAULT_PIXEL_RATIO;
  if (!(Number.isFinite(pixelRatio) && pixelRatio > 0 && pixelRatio <= 16)) {
    throw new InputError(`pixelRatio: ${pixelRatio} is not allowed (a number in (0, 16])`, 'pixelRatio');
  }
  const fontFiles = [...(options.fontFiles ?? DEFAULT_FONT_FILES)];
  const missing = fontFiles.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new InputError(
      `fontFiles: ${missing.join(', ')} not found (the default fonts come with Debian's fonts-dejavu-core: apt-get install fonts-dejavu-core)`,
      'fontFiles',
    );
  }
  const family = options.fontFamily ?? DEFAULT_FONT_FAMILY;
  const resvg = new Resvg(svg, {
    fitTo: { mode: 'zoom', value: pixelRatio },
    font: {
      fontFiles,
      loadSystemFonts: false,
      defaultFontFamily: family,
      sansSerifFamily: family,
      serifFamily: family,
      monospaceFamily: family,
    },
  });
  return new Uint8Array(resvg.render().asPng());
}

/** A figure name usable as a file name everywhere: letters, digits, `-`, `_`, `.` (not leading). */
const FIGURE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Paths written by {@link writeFigure}. */
export interface WrittenFigure {
  readonly svg: string;
  readonly png: string;
  readonly spec: string;
  readonly warnings: string[];
}

/**
 * Renders `spec` and writes `dir/NAME.svg`, `dir/NAME.png` and `dir/NAME.vl.json` (the spec, to
 * re-render or edit it in any vega-lite tool), creating `dir` if needed.
 */
export async function writeFigure(
  spec: FigureSpec,
  dir: string,
  name: string,
  options: RenderOptions = {},
): Promise<WrittenFigure> {
  if (!FIGURE_NAME.test(name)) {
    throw new InputError(`name: '${name}' is not allowed (letters, digits, '.', '_' and '-', not starting with '.', '_' or '-')`, 'name');
  }
  const { svg, png, warnings } = await renderFigure(spec, options);
  await mkdir(dir, { recursive: true });
  const paths = { svg: join(dir, `${name}.svg`), png: join(dir, `${name}.png`), spec: join(dir, `${name}.vl.json`) };
  await Promise.all([
    writeFile(paths.svg, svg),
    writeFile(paths.png, png),
    writeFile(paths.spec, `${JSON.stringify(spec, null, 2)}\n`),
  ]);
  return { ...paths, warnings };
}
