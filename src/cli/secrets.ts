/**
 * `touchpoint secrets rotate` (docs/SECURITY.md, "Rotating the key"): run after setting a new
 * TOUCHPOINT_SECRET_KEY with the old one in TOUCHPOINT_SECRET_KEY_PREVIOUS. Every stored
 * credential is sealed under the new key; when it reports no failure the old key can go.
 */
import type { Config } from '../config.ts';
import { rotateSecrets } from '../app/secretRotation.ts';
import { loadKeyRing } from '../secrets/load.ts';
import { withDatabase } from './commands.ts';
import { CliError } from './errors.ts';

export async function runSecrets(config: Config, argv: string[]): Promise<number> {
  const [sub] = argv;
  if (sub !== 'rotate') throw new CliError('Usage: touchpoint secrets rotate');
  const keyRing = loadKeyRing(config);
  if (!keyRing) throw new CliError('TOUCHPOINT_SECRET_KEY is not set: set the new key (and the old one in TOUCHPOINT_SECRET_KEY_PREVIOUS), then run this again.');
  const report = await withDatabase(config, (db) => rotateSecrets(db, keyRing));
  console.log(
    `Key ${report.keyId}: ${report.resealed} credential(s) re-sealed, ${report.sealed} webhook signing secret(s) sealed, ${report.current} already current.`,
  );
  if (report.failed.length > 0) {
    for (const f of report.failed) console.error(`  ${f.place} ${f.id}: ${f.message}`);
    console.error(`${report.failed.length} credential(s) could not be opened with these keys and were left as they were; keep TOUCHPOINT_SECRET_KEY_PREVIOUS until they are fixed or re-entered.`);
    return 1;
  }
  console.log('Every stored credential is sealed under the current key: TOUCHPOINT_SECRET_KEY_PREVIOUS can be removed.');
  return 0;
}
