import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { checkSignatureHeaders, verifyBasicAuth, verifySendGridSignature, verifyTelnyxSignature } from './verify.ts';

const NOW = new Date('2024-01-15T17:00:00Z');
const TS = String(Math.floor(NOW.getTime() / 1000));
// Real SendGrid bodies end in CRLF and separate events with CRLF; verify must use the raw bytes.
const BODY = Buffer.from(
  '[{"email":"lead@acme.test","timestamp":1705338000,"event":"delivered","sg_event_id":"ZHJv"}]\r\n',
);

function tamper(buffer: Buffer): Buffer {
  const copy = Buffer.from(buffer);
  copy[5] = (copy[5] ?? 0) ^ 0x01;
  return copy;
}

describe('verifySendGridSignature', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const publicKeyBase64 = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');
  const signFor = (ts: string, body: Buffer) =>
    sign('sha256', Buffer.concat([Buffer.from(ts), body]), privateKey).toString('base64');
  const base = { publicKeyBase64, signature: signFor(TS, BODY), timestamp: TS, rawBody: BODY, now: NOW };

  it('accepts a valid signature', () => {
    expect(verifySendGridSignature(base)).toEqual({ ok: true });
  });

  it('rejects a body with one byte changed', () => {
    expect(verifySendGridSignature({ ...base, rawBody: tamper(BODY) })).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
  });

  it('rejects a re-serialised body (no trailing CRLF)', () => {
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(BODY.toString())));
    expect(verifySendGridSignature({ ...base, rawBody: reserialised }).ok).toBe(false);
  });

  it('rejects a signature over a different timestamp', () => {
    const ts = String(Number(TS) - 10);
    expect(verifySendGridSignature({ ...base, timestamp: ts })).toMatchObject({ reason: 'bad_signature' });
  });

  it('rejects a signature made with another key', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    const otherBase64 = other.export({ format: 'der', type: 'spki' }).toString('base64');
    expect(verifySendGridSignature({ ...base, publicKeyBase64: otherBase64 })).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it('rejects stale and future timestamps beyond the tolerance, accepts the edge', () => {
    for (const offset of [-301, 301, -86_400, 86_400]) {
      const ts = String(Number(TS) + offset);
      const result = verifySendGridSignature({ ...base, timestamp: ts, signature: signFor(ts, BODY) });
      expect(result).toEqual({ ok: false, reason: 'stale_timestamp' });
    }
    for (const offset of [-300, 300]) {
      const ts = String(Number(TS) + offset);
      expect(verifySendGridSignature({ ...base, timestamp: ts, signature: signFor(ts, BODY) }).ok).toBe(true);
    }
    const ts = String(Number(TS) - 600);
    const signature = signFor(ts, BODY);
    expect(verifySendGridSignature({ ...base, timestamp: ts, signature, toleranceSeconds: 900 }).ok).toBe(true);
  });

  it('rejects non-numeric timestamps as stale', () => {
    for (const ts of ['abc', '1e9', '-5', '12.5', `${TS}x`]) {
      expect(verifySendGridSignature({ ...base, timestamp: ts })).toMatchObject({ reason: 'stale_timestamp' });
    }
  });

  it('reports missing headers', () => {
    for (const patch of [{ signature: undefined }, { timestamp: undefined }, { signature: '' }, { timestamp: ' ' }]) {
      expect(verifySendGridSignature({ ...base, ...patch })).toEqual({ ok: false, reason: 'missing_headers' });
    }
  });

  it('reports an unusable key', () => {
    const ed = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' });
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
      format: 'der',
      type: 'spki',
    });
    for (const key of ['', 'not base64!', 'AAAA', ed.toString('base64'), p384.toString('base64')]) {
      expect(verifySendGridSignature({ ...base, publicKeyBase64: key })).toEqual({ ok: false, reason: 'bad_key' });
    }
  });

  it('rejects malformed signatures without throwing', () => {
    for (const signature of ['!!!', 'AAAA', 'A', Buffer.alloc(64).toString('base64'), `${base.signature}x`]) {
      expect(verifySendGridSignature({ ...base, signature })).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });
});

describe('verifyTelnyxSignature', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // Telnyx publishes the raw 32 key bytes: the tail of the SPKI DER export.
  const publicKeyBase64 = publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  const body = Buffer.from('{"data":{"id":"86f58db9","event_type":"message.finalized","payload":{}}}');
  const signFor = (ts: string, raw: Buffer) =>
    sign(null, Buffer.concat([Buffer.from(`${ts}|`), raw]), privateKey).toString('base64');
  const base = { publicKeyBase64, signature: signFor(TS, body), timestamp: TS, rawBody: body, now: NOW };

  it('accepts a valid signature', () => {
    expect(verifyTelnyxSignature(base)).toEqual({ ok: true });
  });

  it('rejects a tampered body, a wrong key and a wrong timestamp', () => {
    expect(verifyTelnyxSignature({ ...base, rawBody: tamper(body) })).toMatchObject({ reason: 'bad_signature' });
    const other = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(-32);
    expect(verifyTelnyxSignature({ ...base, publicKeyBase64: other.toString('base64') })).toMatchObject({
      reason: 'bad_signature',
    });
    expect(verifyTelnyxSignature({ ...base, timestamp: String(Number(TS) + 1) })).toMatchObject({
      reason: 'bad_signature',
    });
  });

  it('rejects stale timestamps in both directions', () => {
    for (const offset of [-301, 301]) {
      const ts = String(Number(TS) + offset);
      expect(verifyTelnyxSignature({ ...base, timestamp: ts, signature: signFor(ts, body) })).toEqual({
        ok: false,
        reason: 'stale_timestamp',
      });
    }
  });

  it('reports missing headers', () => {
    expect(verifyTelnyxSignature({ ...base, signature: undefined })).toMatchObject({ reason: 'missing_headers' });
    expect(verifyTelnyxSignature({ ...base, timestamp: '' })).toMatchObject({ reason: 'missing_headers' });
  });

  it('checks key and signature lengths and encodings', () => {
    for (const key of ['', 'xyz', Buffer.alloc(31).toString('base64'), Buffer.alloc(33).toString('base64')]) {
      expect(verifyTelnyxSignature({ ...base, publicKeyBase64: key })).toEqual({ ok: false, reason: 'bad_key' });
    }
    const sig = Buffer.from(base.signature, 'base64');
    for (const signature of [sig.subarray(0, 63).toString('base64'), Buffer.concat([sig, Buffer.alloc(1)]).toString('base64'), '%%%']) {
      expect(verifyTelnyxSignature({ ...base, signature })).toEqual({ ok: false, reason: 'bad_signature' });
    }
  });
});

describe('verifyBasicAuth', () => {
  const header = (text: string) => `Basic ${Buffer.from(text).toString('base64')}`;
  const creds = { user: 'postmark', password: 's3cr:et' };

  it('accepts matching credentials, including a password with a colon', () => {
    expect(verifyBasicAuth({ header: header('postmark:s3cr:et'), ...creds })).toEqual({ ok: true });
    expect(verifyBasicAuth({ header: `basic ${header('postmark:s3cr:et').slice(6)}`, ...creds }).ok).toBe(true);
  });

  it('rejects wrong user, wrong password, and malformed headers', () => {
    for (const h of [header('other:s3cr:et'), header('postmark:s3cr'), header('postmark'), 'Bearer abc', 'Basic', 'Basic ***']) {
      expect(verifyBasicAuth({ header: h, ...creds })).toEqual({ ok: false, reason: 'bad_credentials' });
    }
  });

  it('reports a missing header and an empty configuration', () => {
    expect(verifyBasicAuth({ header: undefined, ...creds })).toEqual({ ok: false, reason: 'missing_headers' });
    expect(verifyBasicAuth({ header: header(':'), user: '', password: '' })).toEqual({
      ok: false,
      reason: 'bad_key',
    });
  });
});

describe('checkSignatureHeaders (before the body is read)', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const ed = generateKeyPairSync('ed25519');
  const keys = {
    sendgrid: ec.publicKey.export({ format: 'der', type: 'spki' }).toString('base64'),
    telnyx: ed.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64'),
  };
  const signatures = {
    sendgrid: sign('sha256', Buffer.from(`${TS}body`), ec.privateKey).toString('base64'),
    telnyx: sign(null, Buffer.from(`${TS}|body`), ed.privateKey).toString('base64'),
  };

  for (const scheme of ['sendgrid', 'telnyx'] as const) {
    const base = { scheme, publicKeyBase64: keys[scheme], signature: signatures[scheme], timestamp: TS, now: NOW };
    it(`${scheme}: a real signature's headers pass`, () => {
      expect(checkSignatureHeaders(base)).toEqual({ ok: true });
    });
    it(`${scheme}: missing, stale, misshapen or keyless headers fail with the full check's reasons`, () => {
      expect(checkSignatureHeaders({ ...base, signature: undefined })).toMatchObject({ reason: 'missing_headers' });
      expect(checkSignatureHeaders({ ...base, timestamp: ' ' })).toMatchObject({ reason: 'missing_headers' });
      expect(checkSignatureHeaders({ ...base, timestamp: String(Number(TS) - 301) })).toMatchObject({ reason: 'stale_timestamp' });
      expect(checkSignatureHeaders({ ...base, timestamp: 'yesterday' })).toMatchObject({ reason: 'stale_timestamp' });
      expect(checkSignatureHeaders({ ...base, signature: 'not base64!' })).toMatchObject({ reason: 'bad_signature' });
      expect(checkSignatureHeaders({ ...base, signature: Buffer.alloc(200, 0x30).toString('base64') })).toMatchObject({ reason: 'bad_signature' });
      expect(checkSignatureHeaders({ ...base, publicKeyBase64: 'AAAA' })).toMatchObject({ reason: 'bad_key' });
    });
  }
  it('never throws on any input', () => {
    expect(checkSignatureHeaders(undefined as never)).toMatchObject({ ok: false });
    expect(checkSignatureHeaders({ scheme: 'telnyx', publicKeyBase64: 1 as never, signature: {} as never, timestamp: [] as never, now: 'x' as never })).toMatchObject({ ok: false });
  });
});
