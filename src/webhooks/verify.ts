/**
 * Webhook authenticity checks, run on the raw request bytes before anything is parsed
 * (providers.md §1, §2, §5). Every function is total: any input, however malformed, yields a
 * `VerifyResult`, because a throw here would turn a forged request into a 500 and a retry loop.
 */
import { createHash, createHmac, createPublicKey, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

export type VerifyFailure =
  | 'missing_headers'
  | 'stale_timestamp'
  | 'bad_signature'
  | 'bad_key'
  | 'bad_credentials';
export type VerifyResult = { ok: true } | { ok: false; reason: VerifyFailure };

export interface SignedRequest {
  /** Our configured provider public key (base64). */
  publicKeyBase64: string;
  /** Signature header; `undefined` when the header was absent. */
  signature: string | undefined;
  /** Timestamp header (unix seconds); `undefined` when the header was absent. */
  timestamp: string | undefined;
  /** The body exactly as received: providers sign bytes, and re-serialised JSON differs. */
  rawBody: Buffer;
  now: Date;
  toleranceSeconds?: number;
}

const OK: VerifyResult = { ok: true };
const fail = (reason: VerifyFailure): VerifyResult => ({ ok: false, reason });

const DEFAULT_TOLERANCE_SECONDS = 300;
// ASN.1 header of an Ed25519 SubjectPublicKeyInfo; Telnyx publishes only the 32 raw key bytes.
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * Strict base64: Node's decoder silently skips invalid characters, which would let a mangled
 * header decode to some other byte string instead of being reported as malformed.
 */
function decodeBase64(value: unknown): Buffer | undefined {
  if (typeof value !== 'string' || value.length === 0 || !BASE64.test(value)) return undefined;
  return Buffer.from(value, 'base64');
}

function present(value: unknown): value is string {
  return typeof value === 'string' && value.trim().length > 0;
}

/**
 * Replay protection: a signature stays valid forever, so without an age check anyone who
 * captures one signed request (a log, a proxy) can replay it at will. Future timestamps are
 * rejected too: they would let a captured request outlive the window. A timestamp that is
 * not plain unix seconds cannot be shown to be fresh, so it fails the same way.
 */
function isFresh(timestamp: string, now: unknown, toleranceSeconds: unknown): boolean {
  if (!/^\d{1,15}$/.test(timestamp.trim())) return false;
  const nowMs = now instanceof Date ? now.getTime() : Number.NaN;
  if (!Number.isFinite(nowMs)) return false;
  const tolerance =
    typeof toleranceSeconds === 'number' && Number.isFinite(toleranceSeconds) && toleranceSeconds >= 0
      ? toleranceSeconds
      : DEFAULT_TOLERANCE_SECONDS;
  return Math.abs(nowMs / 1000 - Number(timestamp.trim())) <= tolerance;
}

function isBytes(value: unknown): value is Buffer {
  return Buffer.isBuffer(value);
}

function sendGridKey(publicKeyBase64: unknown): KeyObject | undefined {
  const der = decodeBase64(publicKeyBase64);
  if (!der) return undefined;
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    // Any other key type would verify under a different algorithm than SendGrid signs with.
    const curve = key.asymmetricKeyDetails?.namedCurve;
    return key.asymmetricKeyType === 'ec' && curve === 'prime256v1' ? key : undefined;
  } catch {
    return undefined;
  }
}

/** SendGrid Signed Event Webhook: ECDSA P-256/SHA-256 over `timestamp + rawBody`. */
export function verifySendGridSignature(input: SignedRequest): VerifyResult {
  const request: Partial<SignedRequest> = input ?? {};
  const { publicKeyBase64, signature, timestamp, rawBody, now, toleranceSeconds } = request;
  if (!present(signature) || !present(timestamp)) return fail('missing_headers');
  const key = sendGridKey(publicKeyBase64);
  if (!key) return fail('bad_key');
  if (!isFresh(timestamp, now, toleranceSeconds)) return fail('stale_timestamp');
  const sig = decodeBase64(signature.trim());
  if (!sig || !isBytes(rawBody)) return fail('bad_signature');
  try {
    const signed = Buffer.concat([Buffer.from(timestamp, 'utf8'), rawBody]);
    return verify('sha256', signed, key, sig) ? OK : fail('bad_signature');
  } catch {
    // OpenSSL throws on a signature that is not valid DER rather than returning false.
    return fail('bad_signature');
  }
}

function telnyxKey(publicKeyBase64: unknown): KeyObject | undefined {
  const raw = decodeBase64(publicKeyBase64);
  if (!raw || raw.length !== 32) return undefined;
  try {
    return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
  } catch {
    return undefined;
  }
}

/** Telnyx: Ed25519 over `${timestamp}|${rawBody}` (`telnyx-signature-ed25519`, `telnyx-timestamp`). */
export function verifyTelnyxSignature(input: SignedRequest): VerifyResult {
  const request: Partial<SignedRequest> = input ?? {};
  const { publicKeyBase64, signature, timestamp, rawBody, now, toleranceSeconds } = request;
  if (!present(signature) || !present(timestamp)) return fail('missing_headers');
  const key = telnyxKey(publicKeyBase64);
  if (!key) return fail('bad_key');
  if (!isFresh(timestamp, now, toleranceSeconds)) return fail('stale_timestamp');
  const sig = decodeBase64(signature.trim());
  if (!sig || sig.length !== 64 || !isBytes(rawBody)) return fail('bad_signature');
  try {
    const signed = Buffer.concat([Buffer.from(`${timestamp}|`, 'utf8'), rawBody]);
    return verify(null, signed, key, sig) ? OK : fail('bad_signature');
  } catch {
    return fail('bad_signature');
  }
}

/** Fixed-length digests let timingSafeEqual compare secrets of any length without leaking it. */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given, 'utf8').digest();
  const b = createHash('sha256').update(expected, 'utf8').digest();
  return timingSafeEqual(a, b);
}

/**
 * Postmark does not sign webhooks, so its routes carry Basic credentials in the hook URL.
 * An empty configured user or password is a misconfiguration (`bad_key`), not an open door.
 */
export function verifyBasicAuth(input: {
  header: string | undefined;
  user: string;
  password: string;
}): VerifyResult {
  const { header, user, password } = (input ?? {}) as Partial<typeof input>;
  if (typeof user !== 'string' || typeof password !== 'string' || user === '' || password === '') {
    return fail('bad_key');
  }
  if (!present(header)) return fail('missing_headers');
  const match = /^\s*basic\s+(\S+)\s*$/i.exec(header);
  const decoded = match?.[1] ? decodeBase64(match[1]) : undefined;
  if (!decoded) return fail('bad_credentials');
  const text = decoded.toString('utf8');
  // RFC 7617: the user id cannot contain ':', the password can.
  const colon = text.indexOf(':');
  if (colon < 0) return fail('bad_credentials');
  // Compare both halves before combining so timing does not reveal which one was wrong.
  const userOk = sameSecret(text.slice(0, colon), user);
  const passwordOk = sameSecret(text.slice(colon + 1), password);
  return userOk && passwordOk ? OK : fail('bad_credentials');
}

export type SignatureScheme = 'sendgrid' | 'telnyx';

/**
 * Everything about a signed request that can be judged from its headers alone, so a request
 * that cannot pass is refused before its body is read: both headers present, the key usable,
 * the timestamp fresh, and the signature of the scheme's shape (SendGrid: a DER ECDSA
 * signature, at most 72 bytes, starting with a SEQUENCE tag; Telnyx: 64 raw Ed25519 bytes).
 * Same order and reasons as the full checks, which still run on the body afterwards.
 */
export function checkSignatureHeaders(input: Omit<SignedRequest, 'rawBody'> & { scheme: SignatureScheme }): VerifyResult {
  const request: Partial<typeof input> = input ?? {};
  const { publicKeyBase64, signature, timestamp, now, toleranceSeconds, scheme } = request;
  if (!present(signature) || !present(timestamp)) return fail('missing_headers');
  const key = scheme === 'telnyx' ? telnyxKey(publicKeyBase64) : sendGridKey(publicKeyBase64);
  if (!key) return fail('bad_key');
  if (!isFresh(timestamp, now, toleranceSeconds)) return fail('stale_timestamp');
  const sig = decodeBase64(signature.trim());
  if (!sig) return fail('bad_signature');
  const shaped = scheme === 'telnyx' ? sig.length === 64 : sig.length >= 8 && sig.length <= 72 && sig[0] === 0x30;
  return shaped ? OK : fail('bad_signature');
}

const HEX_SHA256 = /^[0-9a-f]{64}$/i;

/** HMAC-SHA256 of `parts` under `secret`, compared in constant time with a hex digest. */
function sameHmac(secret: string, parts: Buffer[], hex: string): boolean {
  if (!HEX_SHA256.test(hex)) return false;
  const hmac = createHmac('sha256', secret);
  for (const part of parts) hmac.update(part);
  return timingSafeEqual(hmac.digest(), Buffer.from(hex, 'hex'));
}

/**
 * Cal.com: hex HMAC-SHA256 of the raw body under the webhook's secret (`X-Cal-Signature-256`).
 * Cal.com signs no timestamp, so there is nothing to judge freshness by; a replay can only repeat
 * a booking we already hold, which the dedupe key (booking uid + trigger) absorbs.
 */
export function verifyCalcomSignature(input: { secret: string; signature: string | undefined; rawBody: Buffer }): VerifyResult {
  const { secret, signature, rawBody } = (input ?? {}) as Partial<typeof input>;
  if (!present(signature)) return fail('missing_headers');
  if (typeof secret !== 'string' || secret === '') return fail('bad_key');
  if (!isBytes(rawBody)) return fail('bad_signature');
  return sameHmac(secret, [rawBody], signature.trim()) ? OK : fail('bad_signature');
}

/** Calendly's header `t=<unix seconds>,v1=<hex>`; undefined when it is not of that shape. */
export function parseCalendlySignature(header: string | undefined): { t: string; v1: string } | undefined {
  if (!present(header)) return undefined;
  const fields = new Map<string, string>();
  for (const part of header.split(',')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const t = fields.get('t');
  const v1 = fields.get('v1');
  return t && v1 ? { t, v1 } : undefined;
}

/** Calendly's documented replay window is three minutes. */
export const CALENDLY_TOLERANCE_SECONDS = 180;

/**
 * Calendly: `Calendly-Webhook-Signature: t=…,v1=…`, hex HMAC-SHA256 of `t + "." + rawBody`
 * under the subscription's signing key; `t` must be within the tolerance of now.
 * Without `rawBody`, only what the header can show is judged (the front door's check).
 */
export function verifyCalendlySignature(input: {
  signingKey: string;
  header: string | undefined;
  rawBody?: Buffer;
  now: Date;
  toleranceSeconds?: number;
}): VerifyResult {
  const { signingKey, header, rawBody, now, toleranceSeconds } = (input ?? {}) as Partial<typeof input>;
  const parsed = parseCalendlySignature(header);
  if (!parsed) return fail('missing_headers');
  if (typeof signingKey !== 'string' || signingKey === '') return fail('bad_key');
  if (!isFresh(parsed.t, now, toleranceSeconds ?? CALENDLY_TOLERANCE_SECONDS)) return fail('stale_timestamp');
  if (!HEX_SHA256.test(parsed.v1)) return fail('bad_signature');
  if (rawBody === undefined) return OK;
  if (!isBytes(rawBody)) return fail('bad_signature');
  return sameHmac(signingKey, [Buffer.from(`${parsed.t.trim()}.`, 'utf8'), rawBody], parsed.v1) ? OK : fail('bad_signature');
}
