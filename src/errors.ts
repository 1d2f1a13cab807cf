/**
 * User-facing errors. The CLI prints `message` on one line and exits with code 2 (bad input) or 1
 * (a run that failed, e.g. a non-finite value); it never prints a stack trace for these.
 */
export class AdvbiasError extends Error {
  /** The field, flag or file the error is about, when there is one. */
  readonly field?: string;
  constructor(message: string, field?: string) {
    super(message);
    this.name = 'AdvbiasError';
    this.field = field;
  }
}

/** Bad input: a flag, config field or data file that is not allowed. CLI exit code 2. */
export class InputError extends AdvbiasError {
  constructor(message: string, field?: string) {
    super(message, field);
    this.name = 'InputError';
  }
}

/** A run that stopped because a quantity became NaN or ±Infinity. CLI exit code 1. */
export class NonFiniteError extends AdvbiasError {
  readonly quantity: string;
  readonly step: number;
  constructor(quantity: string, step: number, detail = '') {
    super(`non-finite ${quantity} at step ${step}${detail ? ` (${detail})` : ''}: the run was stopped`, quantity);
    this.name = 'NonFiniteError';
    this.quantity = quantity;
    this.step = step;
  }
}
