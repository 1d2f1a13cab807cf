/**
 * Claim names. An experiment checks one claim: the paper's C1–C3 (docs/THEORY.md §5) or a name of
 * the user's own (e.g. `MY-CLAIM`). Only when every claim checked is one of the paper's does the
 * verdict say that the claims were reproduced; for other names it says that the expectations were met.
 */

/** The paper's claims (docs/THEORY.md §5). */
export const PAPER_CLAIMS = ['C1', 'C2', 'C3'] as const;

/**
 * A claim name: a letter, then up to 31 letters, digits, `-`, `_` or `.`. Short, so that it fits the
 * tables, and without spaces, so that `advbias reproduce NAME` selects it.
 */
export const CLAIM_NAME = /^[A-Za-z][A-Za-z0-9._-]{0,31}$/;

/** Names `advbias reproduce` already gives a meaning to, so no claim may take them. */
export const RESERVED_CLAIM_NAMES: readonly string[] = ['all'];

/** Whether `claim` is one of the paper's claims C1–C3 (exact spelling). */
export function isPaperClaim(claim: string): boolean {
  return (PAPER_CLAIMS as readonly string[]).includes(claim);
}

/** One claim's outcome, as the summary lists it. */
export interface ClaimOutcome {
  readonly claim: string;
  readonly pass: boolean;
}

/**
 * The one-line verdict of a `reproduce` run (without its timing):
 *  - interrupted: "Interrupted";
 *  - some expectation failed: "Some expectations failed";
 *  - all passed, only the paper's claims checked: "All claims reproduced";
 *  - all passed, own claim names among them: "All expectations met (claims: C1, MY-CLAIM)" — an own
 *    claim is the user's statement, not one of the paper's, so nothing is said to be reproduced.
 */
export function verdict(claims: readonly ClaimOutcome[], options: { readonly pass: boolean; readonly interrupted?: boolean }): string {
  if (options.interrupted) return 'Interrupted';
  if (!options.pass) return 'Some expectations failed';
  if (claims.length > 0 && claims.every((c) => isPaperClaim(c.claim))) return 'All claims reproduced';
  return `All expectations met (claims: ${claims.map((c) => c.claim).join(', ') || 'none'})`;
}
