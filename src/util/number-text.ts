/**
 * Numbers as users type them: `0.1`, `1e-3`, `-2`, and fractions `8/255` (the way adversarial-robustness
 * papers write ε). Library code.
 */

const NUMBER = /^[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?$/;

/** The value of `text`, or NaN when it is not a number or a fraction a/b of two numbers (b ≠ 0). */
export function parseNumberText(text: string): number {
  const t = text.trim();
  const slash = t.indexOf('/');
  if (slash < 0) return NUMBER.test(t) ? Number(t) : NaN;
  const a = t.slice(0, slash).trim();
  const b = t.slice(slash + 1).trim();
  if (!NUMBER.test(a) || !NUMBER.test(b)) return NaN;
  const den = Number(b);
  return den === 0 ? NaN : Number(a) / den;
}
