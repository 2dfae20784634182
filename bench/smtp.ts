/**
 * `node --import tsx bench/smtp.ts [--leads N] [--runs R]` — sending through mailboxes over
 * SMTP (docs/BENCHMARKS.md, "Mailboxes over SMTP"). A real SMTP server (`smtp-server`, AUTH
 * over STARTTLS with a self-signed certificate, as the tests use) on 127.0.0.1 takes every
 * message. Two figures per layout, one mailbox and four:
 *
 *  - adapter: the SMTP sender alone (one pooled connection per mailbox, sends queued on it),
 *    N messages handed over at once, spread across the mailboxes;
 *  - engine: N leads enrolled in a sequence naming the mailboxes (no daily limit in reach,
 *    `minGapSeconds: 0`), drained by the embedded engine on PGlite: claims, the mailbox intent
 *    transaction (lock, count, intent), the SMTP send, the outcome.
 *
 * Each figure is the median of R runs (after one warm-up) with min and max, in sends per second.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { validateDefinition } from '../src/core/validate.ts';
import type { Db } from '../src/db/db.ts';
import { insertLeads } from '../src/db/leads.ts';
import { createMailbox, mailboxSecretContext } from '../src/db/mailboxes.ts';
import { openMemoryDatabase } from '../src/db/memoryStore.ts';
import { createSequence } from '../src/db/sequences.ts';
import { ensureWorkspace } from '../src/db/workspaces.ts';
import { SmtpMailboxSender } from '../src/delivery/email/smtp.ts';
import { MockDelivery } from '../src/delivery/mock.ts';
import { ManualClock } from '../src/engine/clock.ts';
import { createEngine } from '../src/engine/engine.ts';
import { KeyRing } from '../src/secrets/keyRing.ts';
import { startSmtpServer, type TestSmtpServer } from '../test/helpers/smtpServer.ts';

const { values } = parseArgs({ options: { leads: { type: 'string', default: '400' }, runs: { type: 'string', default: '3' } } });
const N = Number(values.leads);
const RUNS = Number(values.runs);
const keyRing = new KeyRing(randomBytes(32));
const ALL_DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

function message(i: number, from: string) {
  const id = randomUUID();
  return {
    idempotencyKey: `bench:${id}`,
    executionId: id,
    enrollmentId: id,
    workspaceId: id,
    to: `lead${i}@lead.test`,
    from: { email: from },
    subject: `Hello ${i}`,
    text: 'Hi there, a short plain note as a rep would write it.',
    messageId: `${id}@acme.test`,
  };
}

async function adapterRun(server: TestSmtpServer, mailboxes: number): Promise<number> {
  const sender = new SmtpMailboxSender({ tls: { ca: server.ca } });
  const accounts = Array.from({ length: mailboxes }, (_, i) => ({
    id: randomUUID(),
    version: 'v1',
    smtp: { host: '127.0.0.1', port: server.port, secure: false, user: server.user, password: server.password },
    from: `rep${i}@acme.test`,
  }));
  const started = performance.now();
  const results = await Promise.all(Array.from({ length: N }, (_, i) => sender.send(accounts[i % mailboxes]!, message(i, accounts[i % mailboxes]!.from))));
  const seconds = (performance.now() - started) / 1000;
  await sender.close();
  if (results.some((r) => r.kind !== 'sent')) throw new Error(`a send failed: ${JSON.stringify(results.find((r) => r.kind !== 'sent'))}`);
  return N / seconds;
}

async function engineRun(server: TestSmtpServer, db: Db, mailboxes: number): Promise<number> {
  const clock = new ManualClock('2026-03-04T15:00:00Z');
  const workspace = await ensureWorkspace(db, `bench-${randomUUID().slice(0, 8)}`);
  const smtp = new SmtpMailboxSender({ tls: { ca: server.ca }, now: () => clock.now().getTime() });
  const engine = createEngine(
    {
      db,
      adapters: { ...new MockDelivery({ now: () => clock.now() }).adapters(), mailbox: smtp },
      clock,
      leaseMs: 120_000,
      senders: { emailFrom: 'default@us.test', smsFrom: '+15550001111', voiceFrom: '+15550001111' },
      openSecret: (sealed, context) => keyRing.open(sealed, context),
    },
    { inFlightTimeoutMs: 60_000 },
  );
  const ids: string[] = [];
  for (let i = 0; i < mailboxes; i++) {
    const id = randomUUID();
    await createMailbox(
      db,
      workspace.id,
      {
        id,
        name: `rep${i}`,
        fromEmail: `rep${i}-${id.slice(0, 6)}@acme.test`,
        smtp: { host: '127.0.0.1', port: server.port, secure: false, user: server.user },
        smtpPasswordSealed: keyRing.seal(server.password, mailboxSecretContext(id, 'smtp')),
        dailyLimit: 10_000,
        minGapSeconds: 0,
      },
      clock.now(),
    );
    ids.push(id);
  }
  const parsed = validateDefinition({
    name: 'bench',
    schedule: { days: ALL_DAYS, start: '00:00', end: '00:00' },
    quietHours: { start: '00:00', end: '00:00', channels: [] },
    mailboxes: ids,
    steps: [{ id: 'intro', type: 'email', subject: 'Hello {{ lead.firstName }}', body: 'Hi {{ lead.firstName }}, a short note.' }],
  });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.problems));
  const sequence = await createSequence(db, workspace.id, parsed.definition, 'active');
  const leads = await insertLeads(
    db,
    workspace.id,
    Array.from({ length: N }, (_, i) => ({ email: `l${i}-${randomUUID().slice(0, 6)}@lead.test`, firstName: `L${i}`, timezone: 'UTC' })),
  );
  const enrolled = await engine.enroll({ workspaceId: workspace.id, sequenceId: sequence.id, leadIds: leads.map((l) => l.id), actor: 'bench' });
  if (!enrolled.ok) throw new Error(enrolled.message);
  const before = server.received.length;
  const started = performance.now();
  await engine.dispatcher.drain();
  const seconds = (performance.now() - started) / 1000;
  await smtp.close();
  const sent = server.received.length - before;
  if (sent !== N) throw new Error(`expected ${N} messages at the server, got ${sent}`);
  return N / seconds;
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return `${median.toFixed(0)} /s (min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)})`;
}

async function main() {
  const server = await startSmtpServer();
  const db = await openMemoryDatabase();
  const load = loadavg().map((n) => n.toFixed(2)).join(' ');
  console.error(`${N} sends per run, ${RUNS} runs after a warm-up; load average at start ${load}`);
  const rows: string[] = [];
  for (const mailboxes of [1, 4]) {
    for (const [name, run] of [
      ['adapter', () => adapterRun(server, mailboxes)],
      ['engine (PGlite)', () => engineRun(server, db, mailboxes)],
    ] as const) {
      await run(); // warm-up
      const samples: number[] = [];
      for (let r = 0; r < RUNS; r++) samples.push(await run());
      const row = `| ${name} | ${mailboxes} | ${summary(samples)} |`;
      console.error(row);
      rows.push(row);
    }
  }
  console.log(['| path | mailboxes | sends per second |', '|---|---|---|', ...rows].join('\n'));
  console.error(`load average at end ${loadavg().map((n) => n.toFixed(2)).join(' ')}`);
  await db.close();
  await server.close();
}

await main();
