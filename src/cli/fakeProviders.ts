/**
 * `touchpoint fake-providers`: the fake SendGrid, Postmark, Telnyx and OpenAI-style
 * writer on loopback, so the whole live path runs on one machine. It prints (and writes to a
 * file) the environment that points `touchpoint serve` at them, and by default plays a lead who
 * engages: every email is delivered and opened, every text delivered, every call answered by a
 * person who listens to the script — each as a signed webhook to Touchpoint.
 *
 * It also runs a local mail server pair (src/devtools/mail): an SMTP server for a rep's mailbox
 * that delivers into a Maildir served by Dovecot over IMAP (when Dovecot is installed), and a
 * lead who answers each email into the rep's INBOX (a reply, an out-of-office or a bounce, by
 * the recipient's address), so the whole mailbox path runs on one machine (docs/MAILBOXES.md).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../config.ts';
import { FakeOpenAiWriter } from '../devtools/fakes/openaiWriter.ts';
import { startLocalMail, type LocalMail } from '../devtools/mail/localMail.ts';
import { FakePostmark } from '../devtools/fakes/postmark.ts';
import { FakeSendGrid } from '../devtools/fakes/sendgrid.ts';
import type { FakeReply, RecordedRequest } from '../devtools/fakes/server.ts';
import { FakeTelnyx } from '../devtools/fakes/telnyx.ts';
import type { TelnyxCallEventType } from '../devtools/fakes/telnyxEvents.ts';

type Later = (what: string, action: () => Promise<unknown>) => void;

class EngagingSendGrid extends FakeSendGrid {
  constructor(apiKey: string, private readonly target: string, private readonly later: Later) {
    super(apiKey);
  }
  protected override handle(request: RecordedRequest): FakeReply {
    const reply = super.handle(request);
    const id = reply.headers?.['X-Message-Id'];
    if (reply.status === 202 && id) {
      this.later(`SendGrid delivered + open for ${id}`, () =>
        this.emit(`${this.target}/webhooks/sendgrid`, [this.event('delivered', id), this.event('open', id)]),
      );
    }
    return reply;
  }
}

class EngagingPostmark extends FakePostmark {
  constructor(private readonly target: string, private readonly later: Later) {
    super();
  }
  protected override handle(request: RecordedRequest): FakeReply {
    const reply = super.handle(request);
    const id = (reply.body as { MessageID?: string } | undefined)?.MessageID;
    if (reply.status === 200 && id) {
      this.later(`Postmark Delivery + Open for ${id}`, () =>
        this.emit(`${this.target}/webhooks/postmark`, [this.event('Delivery', id), this.event('Open', id)]),
      );
    }
    return reply;
  }
}

/** Texts are delivered; calls are answered by a person, who hangs up after the script. */
class EngagingTelnyx extends FakeTelnyx {
  constructor(apiKey: string, private readonly target: string, private readonly later: Later) {
    super(apiKey);
  }
  protected override handle(request: RecordedRequest): FakeReply {
    const reply = super.handle(request);
    if (reply.status !== 200) return reply;
    const data = (reply.body as { data?: Record<string, unknown> } | undefined)?.data ?? {};
    const call = (events: Array<[TelnyxCallEventType, Record<string, unknown>?]>, id: string) =>
      this.later(`Telnyx ${events.map(([type]) => type).join(', ')}`, () =>
        this.emit(`${this.target}/webhooks/telnyx`, events.map(([type, extra]) => this.callEvent(type, id, extra))),
      );
    if (request.path === '/v2/messages' && typeof data.id === 'string') {
      const id = data.id;
      this.later(`Telnyx message.finalized for ${id}`, () =>
        this.emit(`${this.target}/webhooks/telnyx`, [this.messageEvent('message.finalized', id)]),
      );
    } else if (request.path === '/v2/calls' && typeof data.call_control_id === 'string') {
      call([['call.initiated'], ['call.answered'], ['call.machine.detection.ended', { result: 'human' }]], data.call_control_id);
    } else {
      const action = /^\/v2\/calls\/([^/]+)\/actions\/(speak|hangup)$/.exec(request.path);
      if (action?.[2] === 'speak') call([['call.speak.started'], ['call.speak.ended', { status: 'completed' }]], action[1]!);
      if (action?.[2] === 'hangup') call([['call.hangup', { hangup_cause: 'normal_clearing', hangup_source: 'caller' }]], action[1]!);
    }
    return reply;
  }
}

export async function runFakeProviders(config: Config, argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      target: { type: 'string', default: `http://localhost:${config.PORT}` },
      'env-out': { type: 'string', default: `${config.DATA_DIR}/fake-providers.env` },
      'no-engage': { type: 'boolean', default: false },
      'delay-ms': { type: 'string', default: '1000' },
      'no-mail': { type: 'boolean', default: false },
    },
  });
  const target = values.target.replace(/\/+$/, '');
  const delayMs = Math.max(0, Number(values['delay-ms']) || 0);
  const engage = !values['no-engage'];
  // Webhooks go out after the send has been answered and recorded, as a provider's would.
  const later: Later = (what, action) => {
    if (!engage) return;
    setTimeout(() => {
      action().then(
        (deliveries) => console.log(`→ ${what}: ${JSON.stringify((deliveries as Array<{ status: number }>).map((d) => d.status))}`),
        (error: unknown) => console.log(`→ ${what}: not delivered (${(error as Error).message}); is Touchpoint running at ${target}?`),
      );
    }, delayMs);
  };

  const sendgrid = await new EngagingSendGrid('SG.fake-sendgrid-key', target, later).start();
  const postmark = await new EngagingPostmark(target, later).start();
  const telnyx = await new EngagingTelnyx('KEYfake-telnyx-key', target, later).start();
  const writer = await new FakeOpenAiWriter().start();
  const mail: LocalMail | undefined = values['no-mail']
    ? undefined
    : await startLocalMail({
        delayMs,
        onAnswer: engage ? (sent, answer) => console.log(`→ answered ${sent.to.join(', ')} in the rep's INBOX: ${answer.split('\r\n').find((l) => l.startsWith('Subject:'))}`) : undefined,
      });
  const caFile = `${dirname(values['env-out'])}/fake-mail-ca.pem`;

  const env: Record<string, string> = {
    USE_MOCK_SEQUENCE_DELIVERY: 'false',
    PUBLIC_URL: target,
    UNSUBSCRIBE_SECRET: randomBytes(24).toString('hex'),
    EMAIL_PROVIDER: 'sendgrid',
    SENDGRID_API_KEY: sendgrid.apiKey,
    SENDGRID_BASE_URL: sendgrid.baseUrl,
    SENDGRID_WEBHOOK_PUBLIC_KEY: sendgrid.publicKeyBase64,
    SENDGRID_INBOUND_PUBLIC_KEY: sendgrid.publicKeyBase64,
    POSTMARK_SERVER_TOKEN: postmark.serverToken,
    POSTMARK_BASE_URL: postmark.baseUrl,
    POSTMARK_WEBHOOK_USER: postmark.webhookAuth.username,
    POSTMARK_WEBHOOK_PASSWORD: postmark.webhookAuth.password,
    TELNYX_API_KEY: telnyx.apiKey,
    TELNYX_BASE_URL: telnyx.baseUrl,
    TELNYX_PUBLIC_KEY: telnyx.publicKeyBase64,
    TELNYX_CONNECTION_ID: 'fake-connection',
    AI_WRITER_API_KEY: writer.apiKey,
    AI_WRITER_BASE_URL: `${writer.baseUrl}/v1`,
    // The local mail servers' self-signed certificate, trusted by Node for the SMTP and IMAP logins.
    ...(mail ? { NODE_EXTRA_CA_CERTS: caFile } : {}),
  };
  const lines = Object.entries(env).map(([key, value]) => `${key}=${value}`);
  const envFile = values['env-out'];
  mkdirSync(dirname(envFile), { recursive: true });
  writeFileSync(envFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  if (mail) writeFileSync(caFile, mail.certificate.cert);

  console.log(`Fake providers on loopback: SendGrid ${sendgrid.baseUrl}, Postmark ${postmark.baseUrl}, Telnyx ${telnyx.baseUrl}, writer ${writer.baseUrl}`);
  console.log(`\nEnvironment for \`touchpoint serve\` (also written to ${envFile}; keys are new on every start):\n`);
  for (const line of lines) console.log(`  ${line}`);
  console.log(`\nIn another terminal:\n  set -a; . ${envFile}; set +a; npx touchpoint serve`);
  if (mail) printMailbox(mail, target);
  console.log(
    engage
      ? `\nPlaying an engaged lead: webhooks go to ${target} ${delayMs} ms after each send. Ctrl-C to stop.`
      : '\nNot sending webhooks (--no-engage). Ctrl-C to stop.',
  );

  const stop = async () => {
    await Promise.all([sendgrid.close(), postmark.close(), telnyx.close(), writer.close(), mail?.close()]);
    process.exit(0);
  };
  process.on('SIGINT', () => void stop());
  process.on('SIGTERM', () => void stop());
  return -1; // keep running
}

/** The local mailbox, ready to paste into `POST /api/mailboxes`. */
function printMailbox(mail: LocalMail, target: string): void {
  const server = { host: '127.0.0.1', secure: false, user: mail.rep.user, password: mail.rep.password };
  const body = {
    name: 'Local rep',
    fromEmail: mail.rep.user,
    fromName: 'Local Rep',
    smtp: { ...server, port: mail.smtp.port },
    ...(mail.imap ? { imap: { ...server, port: mail.imap.port } } : {}),
    dailyLimit: 100,
    minGapSeconds: 0,
  };
  console.log(`\nLocal mail: SMTP 127.0.0.1:${mail.smtp.port}${mail.imap ? `, IMAP (Dovecot) 127.0.0.1:${mail.imap.port}` : ''} (STARTTLS, user ${mail.rep.user}).`);
  if (!mail.imap) console.log('Dovecot is not installed (apt-get install dovecot-imapd): sends work, but no INBOX is served and nobody answers.');
  console.log(`Add the rep's mailbox, then name it in a sequence's "mailboxes":\n  curl -s -X POST ${target}/api/mailboxes -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\\n    -d '${JSON.stringify(body)}'`);
  if (mail.imap) console.log('Leads at ooo…@ answer with an out-of-office, bounce…@ bounce, anyone else replies in the thread.');
}
