/**
 * Seeded pseudo-random numbers: the only source of randomness in advbias.
 *
 * Generator: sfc32 (Doornik's small fast counter, 128-bit state), seeded through splitmix32 from a
 * 32-bit integer seed; uniforms carry 53 random bits. Normals by Box–Muller (both values used).
 * The same seed gives the same stream on every platform (pure 32-bit integer arithmetic).
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  private spare = NaN;

  constructor(seed: number) {
    if (!Number.isInteger(seed)) throw new RangeError(`seed must be an integer, got ${seed}`);
    let s = seed >>> 0;
    const next = (): number => {
      // splitmix32
      s = (s + 0x9e3779b9) | 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextUint32();
  }

  /** Next 32-bit unsigned integer. */
  nextUint32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal N(0, 1). */
  normal(): number {
    if (!Number.isNaN(this.spare)) {
      const v = this.spare;
      this.spare = NaN;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer uniform in [0, n). */
  int(n: number): number {
    return Math.floor(this.uniform() * n);
  }

  /** Fisher–Yates shuffle of an index array, in place. */
  shuffle(a: Int32Array | number[]): void {
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const t = a[i];
      a[i] = a[j];
      a[j] = t;
    }
  }

  /**
   * Everything that determines the rest of the stream: the four sfc32 words (as unsigned 32-bit
   * integers) and, when a Box–Muller pair is half used, the cached second normal as a fifth entry.
   * `Rng.fromState(r.getState())` continues exactly where `r` is. The spare normal is any float64
   * (−0 included): serialize with `stringifyExact` (util/exact-json) to keep it bit for bit.
   */
  getState(): number[] {
    const s = [this.a >>> 0, this.b >>> 0, this.c >>> 0, this.d >>> 0];
    if (!Number.isNaN(this.spare)) s.push(this.spare);
    return s;
  }

  /** Overwrites this generator's state with one from `getState` (RangeError when malformed). */
  setState(state: readonly number[]): void {
    if (!Array.isArray(state) || (state.length !== 4 && state.length !== 5))
      throw new RangeError(`rng state must be an array of 4 or 5 numbers, got ${Array.isArray(state) ? `${state.length} entries` : typeof state}`);
    for (let k = 0; k < 4; k++) {
      const w = state[k];
      if (typeof w !== 'number' || !Number.isInteger(w) || w < 0 || w > 0xffffffff) throw new RangeError(`rng state word ${k} must be an unsigned 32-bit integer, got ${w}`);
    }
    if (state.length === 5 && (typeof state[4] !== 'number' || !Number.isFinite(state[4])))
      throw new RangeError(`rng state spare normal must be a finite number, got ${state[4]}`);
    this.a = state[0] | 0;
    this.b = state[1] | 0;
    this.c = state[2] | 0;
    this.d = state[3] | 0;
    this.spare = state.length === 5 ? state[4] : NaN;
  }

  /** A generator that continues the stream whose state `getState` returned. */
  static fromState(state: readonly number[]): Rng {
    const r = new Rng(0);
    r.setState(state);
    return r;
  }

  /** A new independent stream derived from this one (for e.g. attack random starts). */
  fork(): Rng {
    return new Rng(this.nextUint32() | 0);
  }
}
