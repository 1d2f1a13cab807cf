/**
 * What an attack kind declares about itself (see src/kinds/descriptor.ts). Library code.
 */
import type { KindDescriptor } from '../kinds/descriptor.ts';
import type { Attack, AttackConfig } from './attack.ts';

export interface AttackTraits {
  /** The norm the attack is defined in (FGSM: ∞), or null when it takes `p`. */
  readonly fixedNorm: number | null;
  /** Only for linear-in-x binary models (the closed-form worst case). */
  readonly needsLinearInX: boolean;
  /** False for the clean baseline (δ = 0 whatever ε says). */
  readonly perturbs: boolean;
}

/** An attack kind: settings (`p`, `eps`, …), traits and factory. */
export interface AttackDescriptor extends KindDescriptor {
  readonly traits: AttackTraits;
  /** Build the attack from a validated config of this kind. */
  create(config: AttackConfig): Attack;
}
