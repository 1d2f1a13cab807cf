/**
 * A labelled data set held as flat float64 arrays.
 *
 * Binary sets (`classes === 2`, `binary === true`) carry labels y_i ∈ {−1, +1} and are used with
 * one-output models; K-class sets (`binary === false`) carry labels 0..K−1 and need K outputs.
 */
export interface Dataset {
  /** Where it came from: "s2", a file path, "synthetic:n=…", "mnist:3,8". */
  readonly name: string;
  /** Number of examples. */
  readonly n: number;
  /** Input dimension. */
  readonly d: number;
  /** Inputs, row-major n×d: x_i is X[i·d … i·d + d − 1]. */
  readonly X: Float64Array;
  /** Labels: ±1 when binary, else 0..K−1. */
  readonly y: Int32Array;
  readonly binary: boolean;
  /** 2 for binary, K for K-class. */
  readonly classes: number;
}
