/**
 * Re-sealing stored credentials (docs/SECURITY.md, "Rotating the key"). `rotateSecrets` opens
 * every stored credential with the key ring (the current key or one of
 * TOUCHPOINT_SECRET_KEY_PREVIOUS) and seals each one not yet under the current key again under
 * it; outbound webhook signing secrets kept in the clear from before they were sealed are
 * sealed too. Once it reports nothing failed, the previous keys can be dropped.
 * `sealPlainEndpointSecrets` is the part every start runs: plain signing secrets get sealed.
 */
import type { Db } from '../db/db.ts';
import { replaceSecret, storedSecrets, type SecretPlace, type StoredSecret } from '../db/sealedSecrets.ts';
import { isSealedSecret } from '../db/webhookEndpoints.ts';
import type { KeyRing } from '../secrets/keyRing.ts';

export interface RotationReport {
  /** The key every credential is now sealed under. */
  keyId: string;
  /** Sealed under an older key, now under the current one. */
  resealed: number;
  /** Kept in the clear before (webhook signing secrets), now sealed. */
  sealed: number;
  /** Already under the current key. */
  current: number;
  /** Could not be opened (sealed under a key the ring does not hold, or altered): left as they are. */
  failed: Array<{ place: SecretPlace; id: string; message: string }>;
}

export async function rotateSecrets(db: Db, keyRing: KeyRing): Promise<RotationReport> {
  const report: RotationReport = { keyId: keyRing.currentKeyId, resealed: 0, sealed: 0, current: 0, failed: [] };
  for (const secret of await storedSecrets(db)) {
    const plain = !isSealedSecret(secret.value);
    if (!plain && !keyRing.isStale(secret.value)) {
      report.current += 1;
      continue;
    }
    let clear: string;
    try {
      clear = plain ? secret.value : keyRing.open(secret.value, secret.context);
    } catch (error) {
      report.failed.push({ place: secret.place, id: secret.id, message: (error as Error).message });
      continue;
    }
    // Changed meanwhile (an API write sealed a new value under the current key): nothing to do.
    if (await replaceSecret(db, secret, keyRing.seal(clear, secret.context))) report[plain ? 'sealed' : 'resealed'] += 1;
    else report.current += 1;
  }
  return report;
}

/** Seals the webhook signing secrets still stored in the clear; answers how many. */
export async function sealPlainEndpointSecrets(db: Db, keyRing: KeyRing): Promise<number> {
  const plain = (await storedSecrets(db, ['webhook.secret', 'webhook.previous'])).filter((s: StoredSecret) => !isSealedSecret(s.value));
  let sealed = 0;
  for (const secret of plain) if (await replaceSecret(db, secret, keyRing.seal(secret.value, secret.context))) sealed += 1;
  return sealed;
}
