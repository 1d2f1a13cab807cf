/**
 * The lab's Web Worker: owns one LabEngine (the library's training step) and runs it while playing,
 * posting a snapshot whenever the page has drawn the previous one (so training never waits for the
 * view, and the view never falls behind by more than one frame).
 *
 * Messages in:  {type: 'reset', state} | {type: 'play'} | {type: 'pause'} | {type: 'step', count}
 *               | {type: 'ack'} (the page drew the last frame) | {type: 'grid', size, box}
 * Messages out: {type: 'ready', references, t} | {type: 'frame', snapshot, stepsPerSecond, playing}
 *               | {type: 'grid', size, values, box} | {type: 'error', message}
 */
import { LabEngine } from './lab-core.ts';
import type { LabState } from './lab-state.ts';

type In =
  | { type: 'reset'; state: LabState }
  | { type: 'play' }
  | { type: 'pause' }
  | { type: 'step'; count: number }
  | { type: 'ack' }
  | { type: 'grid'; size: number; box: [number, number, number, number] };

const ctx = self as unknown as { postMessage(m: unknown, transfer?: Transferable[]): void; onmessage: ((e: MessageEvent<In>) => void) | null };

let engine: LabEngine | null = null;
let stepsPerFrame = 200;
let playing = false;
let acked = true;
let tickQueued = false;
// Steps per second over the last second of play.
let windowStart = 0;
let windowSteps = 0;
let rate = 0;

// Zero-delay scheduling (setTimeout nests to a 4 ms clamp in browsers).
const channel = new MessageChannel();
channel.port1.onmessage = () => {
  tickQueued = false;
  tick();
};
function schedule(): void {
  if (!tickQueued) {
    tickQueued = true;
    channel.port2.postMessage(0);
  }
}

function post(): void {
  if (engine === null) return;
  acked = false;
  const snapshot = engine.snapshot();
  ctx.postMessage({ type: 'frame', snapshot, stepsPerSecond: rate, playing, error: engine.error }, [snapshot.adversarial.buffer]);
}

function tick(): void {
  if (!playing || engine === null) return;
  const t0 = performance.now();
  if (windowStart === 0) windowStart = t0;
  const done = engine.advance(stepsPerFrame);
  windowSteps += done;
  const now = performance.now();
  if (now - windowStart >= 1000) {
    rate = (windowSteps * 1000) / (now - windowStart);
    windowStart = now;
    windowSteps = 0;
  }
  if (engine.error !== null) {
    playing = false;
    post();
    return;
  }
  if (acked) post();
  schedule();
}

ctx.onmessage = (e: MessageEvent<In>) => {
  const m = e.data;
  try {
    if (m.type === 'reset') {
      playing = false;
      stepsPerFrame = m.state.stepsPerFrame;
      engine = new LabEngine(m.state);
      rate = 0;
      windowStart = 0;
      windowSteps = 0;
      ctx.postMessage({ type: 'ready', references: engine.references, t: engine.t });
      acked = true;
      post();
    } else if (m.type === 'play') {
      if (engine === null || engine.error !== null) return;
      playing = true;
      windowStart = 0;
      windowSteps = 0;
      schedule();
    } else if (m.type === 'pause') {
      playing = false;
      rate = 0;
      post();
    } else if (m.type === 'step') {
      if (engine === null) return;
      engine.advance(m.count);
      post();
    } else if (m.type === 'ack') {
      acked = true;
    } else if (m.type === 'grid') {
      if (engine === null) return;
      const [x0, x1, y0, y1] = m.box;
      const values = engine.grid(m.size, x0, x1, y0, y1);
      ctx.postMessage({ type: 'grid', size: m.size, values, box: m.box }, [values.buffer]);
    }
  } catch (err) {
    playing = false;
    engine = null;
    ctx.postMessage({ type: 'error', message: (err as Error).message });
  }
};
