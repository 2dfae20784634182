/**
 * Key rotation (docs/SECURITY.md, "Rotating the key"): `rotateSecrets` re-seals mailbox
 * passwords and provider connections sealed under the previous key and seals webhook signing
 * secrets kept in the clear, so the previous key can be dropped; a credential under a key the
 * ring does not hold is reported and left alone; a second run has nothing to do. And the CLI
 * command end to end on an embedded store. On both stores.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rotateSecrets, sealPlainEndpointSecrets } from '../../src/app/secretRotation.ts';
import { connectionSecretContext, createConnection } from '../../src/db/connections.ts';
import { createMailbox, mailboxSecretContext } from '../../src/db/mailboxes.ts';
import { openDatabase } from '../../src/db/open.ts';
import { storedSecrets } from '../../src/db/sealedSecrets.ts';
import { createEndpoint, endpointSecretContext, rotateSecret } from '../../src/db/webhookEndpoints.ts';
import { ensureWorkspace } from '../../src/db/workspaces.ts';
import { KeyRing } from '../../src/secrets/keyRing.ts';
import { databaseKinds, openTestDatabase, type TestDatabase } from '../helpers/databases.ts';

const kinds = await databaseKinds();
const NOW = new Date('2026-03-04T15:00:00Z');

describe.each(kinds)('secret rotation on %s', (kind) => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await openTestDatabase(kind);
  });
  afterAll(async () => database?.close());

  it('re-seals every credential under the current key, seals plain signing secrets, and reports what it cannot open', async () => {
    const db = database.db;
    const oldKey = randomBytes(32);
    const before = new KeyRing(oldKey);
    const ws = await ensureWorkspace(db, `rotate-${kind}`);
    const mailboxId = randomUUID();
    await createMailbox(
      db,
      ws.id,
      {
        id: mailboxId,
        name: 'Ana',
        fromEmail: `ana-${kind}@acme.test`,
        smtp: { host: 'smtp.acme.test', port: 587, secure: false, user: 'ana' },
        smtpPasswordSealed: before.seal('smtp-pw', mailboxSecretContext(mailboxId, 'smtp')),
        imap: { host: 'imap.acme.test', port: 993, secure: true, user: 'ana' },
        imapPasswordSealed: before.seal('imap-pw', mailboxSecretContext(mailboxId, 'imap')),
        dailyLimit: 40,
        minGapSeconds: 60,
      },
      NOW,
    );
    const connectionId = randomUUID();
    await createConnection(db, ws.id, { id: connectionId, provider: 'sendgrid', settings: {}, secretSealed: before.seal('{"apiKey":"SG.k"}', connectionSecretContext(connectionId)) }, NOW);
    // An endpoint from before signing secrets were sealed, rotated once: both secrets in the clear.
    const endpointId = randomUUID();
    await createEndpoint(db, { id: endpointId, workspaceId: ws.id, url: 'https://hooks.example.com/x', description: '', events: ['*'], secret: 'whsec_old', now: NOW });
    await rotateSecret(db, { workspaceId: ws.id, id: endpointId, secret: 'whsec_new', previousUntil: new Date(NOW.getTime() + 86_400_000), now: NOW });
    // A mailbox sealed under a key nobody has any more: reported, left alone.
    const lostId = randomUUID();
    await createMailbox(
      db,
      ws.id,
      {
        id: lostId,
        name: 'Lost',
        fromEmail: `lost-${kind}@acme.test`,
        smtp: { host: 'smtp.acme.test', port: 587, secure: false, user: 'lost' },
        smtpPasswordSealed: new KeyRing(randomBytes(32)).seal('pw', mailboxSecretContext(lostId, 'smtp')),
        dailyLimit: 40,
        minGapSeconds: 60,
      },
      NOW,
    );

    const newKey = randomBytes(32);
    const rotating = new KeyRing(newKey, [oldKey]);
    const ids: string[] = [mailboxId, connectionId, endpointId, lostId];
    const ours = async () => (await storedSecrets(db)).filter((s) => ids.includes(s.id));
    const report = await rotateSecrets(db, rotating);
    expect(report).toMatchObject({ keyId: rotating.currentKeyId, resealed: 3, sealed: 2 });
    expect(report.failed.filter((f) => f.id === lostId)).toEqual([{ place: 'mailbox.smtp', id: lostId, message: expect.stringContaining('TOUCHPOINT_SECRET_KEY_PREVIOUS') }]);

    // The new key alone opens everything but the lost one.
    const after = new KeyRing(newKey);
    const opened = Object.fromEntries(
      (await ours()).filter((s) => s.id !== lostId).map((s) => [`${s.place}`, after.open(s.value, s.context)]),
    );
    expect(opened).toEqual({
      'mailbox.smtp': 'smtp-pw',
      'mailbox.imap': 'imap-pw',
      connection: '{"apiKey":"SG.k"}',
      'webhook.secret': 'whsec_new',
      'webhook.previous': 'whsec_old',
    });
    expect((await ours()).find((s) => s.place === 'webhook.secret')!.context).toBe(endpointSecretContext(endpointId));

    // Again: nothing left to do but the lost one.
    const again = await rotateSecrets(db, rotating);
    expect(again.resealed + again.sealed).toBe(0);
    expect(again.failed.map((f) => f.id)).toContain(lostId);
    expect(await sealPlainEndpointSecrets(db, rotating)).toBe(0);
  });
});

describe('touchpoint secrets rotate', () => {
  it('re-seals on the embedded store and says the previous key can go', () => {
    const dataDir = join(mkdtempSync(join(tmpdir(), 'tp-rotate-')), 'data');
    const oldKey = randomBytes(32).toString('base64');
    const newKey = randomBytes(32).toString('base64');
    const bin = join(import.meta.dirname, '../../bin/touchpoint.mjs');
    const run = (env: Record<string, string>) =>
      spawnSync(process.execPath, [bin, 'secrets', 'rotate'], { encoding: 'utf8', env: { ...process.env, DATA_DIR: dataDir, DATABASE_URL: '', LOG_LEVEL: 'silent', ...env }, timeout: 120_000 });
    return (async () => {
      // A mailbox sealed under the old key, written straight into the store.
      const db = await openDatabase({ dataDir });
      const ws = await ensureWorkspace(db, 'default');
      const id = randomUUID();
      await createMailbox(
        db,
        ws.id,
        {
          id,
          name: 'Ana',
          fromEmail: 'ana@acme.test',
          smtp: { host: 'smtp.acme.test', port: 587, secure: false, user: 'ana' },
          smtpPasswordSealed: new KeyRing(Buffer.from(oldKey, 'base64')).seal('pw', mailboxSecretContext(id, 'smtp')),
          dailyLimit: 40,
          minGapSeconds: 60,
        },
        NOW,
      );
      await db.close();

      const withoutOld = run({ TOUCHPOINT_SECRET_KEY: newKey });
      expect(withoutOld.status).toBe(1);
      expect(withoutOld.stderr).toMatch(/could not be opened/);
      const rotated = run({ TOUCHPOINT_SECRET_KEY: newKey, TOUCHPOINT_SECRET_KEY_PREVIOUS: oldKey });
      expect(rotated.stderr).toBe('');
      expect(rotated.status).toBe(0);
      expect(rotated.stdout).toMatch(/1 credential\(s\) re-sealed/);
      expect(rotated.stdout).toMatch(/TOUCHPOINT_SECRET_KEY_PREVIOUS can be removed/);
    })();
  }, 180_000);
});
