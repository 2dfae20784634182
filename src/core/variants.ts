/**
 * A/B variants of email and SMS steps (docs/SEQUENCES.md, "A/B variants"): which variant an
 * enrollment gets at a step, and the step as that variant says it. Pure and deterministic: the
 * pick is a hash of the enrollment id and the step id, so a retry, a crash or another worker
 * always picks the same one; the engine stores it on the execution row all the same.
 */
import type { DeliveryStep, EmailVariant, SmsVariant, Step } from './definition.ts';

export type Variant = EmailVariant | SmsVariant;

/** The step's variants, or undefined for a step without any (voice steps never have them). */
export function variantsOf(step: Step): Variant[] | undefined {
  return step.type === 'email' || step.type === 'sms' ? step.variants : undefined;
}

/**
 * cyrb53 (a public-domain 53-bit string hash): well mixed, fast, and the same in Node and the
 * browser. Not cryptographic, and needs not be: it only has to spread enrollments evenly.
 */
export function hash53(text: string, seed = 0): number {
  let h1 = 0xdeadbeef ^ seed;
  let h2 = 0x41c6ce57 ^ seed;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ ch, 2654435761);
    h2 = Math.imul(h2 ^ ch, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507);
  h1 ^= Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507);
  h2 ^= Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** A number in [0, 1) fixed by the enrollment and the step. */
export function assignmentPoint(enrollmentId: string, stepId: string): number {
  return hash53(`${enrollmentId}\u0000${stepId}`) / 2 ** 53;
}

export function weightOf(variant: Variant): number {
  return variant.weight ?? 1;
}

/** The variant whose share of the weight line [0, total) holds the point. */
export function pickByWeight<V extends Variant>(variants: readonly V[], point: number): V {
  const total = variants.reduce((sum, v) => sum + weightOf(v), 0);
  let edge = 0;
  for (const variant of variants) {
    edge += weightOf(variant) / total;
    if (point < edge) return variant;
  }
  return variants[variants.length - 1]!; // rounding left the point past the last edge
}

export interface Assignment {
  variantId: string;
  /** `weight`: the hashed weighted pick; `winner`: a decided winner; `stored`: the visit's row already had it. */
  by: 'weight' | 'winner' | 'stored';
}

/**
 * The variant an enrollment gets at a step: the one already stored for this visit (a retry), else
 * the decided winner (when it is still one of the step's variants), else the weighted pick.
 */
export function assignVariant(
  step: Step,
  enrollmentId: string,
  options: { stored?: string | null; winner?: string | null } = {},
): Assignment | undefined {
  const variants = variantsOf(step);
  if (!variants || variants.length === 0) return undefined;
  if (options.stored && variants.some((v) => v.id === options.stored)) return { variantId: options.stored, by: 'stored' };
  if (options.winner && variants.some((v) => v.id === options.winner)) return { variantId: options.winner, by: 'winner' };
  return { variantId: pickByWeight(variants, assignmentPoint(enrollmentId, step.id)).id, by: 'weight' };
}

/** The step as the variant writes it: the variant's fields over the step's, and no variants left. */
export function applyVariant<S extends DeliveryStep>(step: S, variantId: string | undefined): S {
  if (step.type === 'voice' || !variantId) return step;
  const variant = step.variants?.find((v) => v.id === variantId);
  if (!variant) return step;
  if (step.type === 'email') {
    const v = variant as EmailVariant;
    return { ...step, subject: v.subject ?? step.subject, body: v.body ?? step.body, variants: undefined };
  }
  const v = variant as SmsVariant;
  return { ...step, text: v.text ?? step.text, variants: undefined };
}

/** "a 50 %, b 50 %": how the weights split the assignments, for previews. */
export function describeSplit(variants: readonly Variant[]): string {
  const total = variants.reduce((sum, v) => sum + weightOf(v), 0);
  return variants.map((v) => `${v.id} ${Math.round((weightOf(v) / total) * 1000) / 10} %`).join(', ');
}
