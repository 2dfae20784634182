/**
 * All fake providers at once, each on its own random 127.0.0.1 port. They live under src/ (not
 * test/) because `touchpoint fake-providers` ships them; the contract and live tests import them
 * from here. Only the CLI and tests may import src/devtools (docs/ARCHITECTURE.md).
 */
import { FakeOpenAiWriter, type FakeWriterOptions } from './openaiWriter.ts';
import { FakePostmark, type FakePostmarkOptions } from './postmark.ts';
import { FakeSendGrid } from './sendgrid.ts';
import { FakeTelnyx } from './telnyx.ts';

export { FakeOpenAiWriter, startFakeOpenAiWriter, defaultDraft } from './openaiWriter.ts';
export { FakePostmark, startFakePostmark } from './postmark.ts';
export { FakeSendGrid, startFakeSendGrid } from './sendgrid.ts';
export { FakeTelnyx, startFakeTelnyx } from './telnyx.ts';
export { sendgridBody, sendgridEvent } from './sendgridEvents.ts';
export { postmarkEvent } from './postmarkEvents.ts';
export { autoresponseType, telnyxEvent } from './telnyxEvents.ts';
export type { FaultSpec, RecordedRequest } from './server.ts';
export type { EmitOptions, WebhookDelivery } from './webhooks.ts';

export interface FakeProvidersOptions {
  sendgridApiKey?: string;
  postmark?: FakePostmarkOptions;
  telnyxApiKey?: string;
  writer?: FakeWriterOptions;
}

export interface FakeProviders {
  sendgrid: FakeSendGrid;
  postmark: FakePostmark;
  telnyx: FakeTelnyx;
  writer: FakeOpenAiWriter;
  /** Clears requests, faults and provider state on all four; ports and keys stay. */
  reset(): void;
  close(): Promise<void>;
}

export async function startFakeProviders(options: FakeProvidersOptions = {}): Promise<FakeProviders> {
  const sendgrid = new FakeSendGrid(options.sendgridApiKey ?? 'SG.fake-sendgrid-key');
  const postmark = new FakePostmark(options.postmark);
  const telnyx = new FakeTelnyx(options.telnyxApiKey ?? 'KEYfake-telnyx-key');
  const writer = new FakeOpenAiWriter(options.writer);
  const all = [sendgrid, postmark, telnyx, writer];
  try {
    await Promise.all(all.map((fake) => fake.start()));
  } catch (error) {
    await Promise.all(all.map((fake) => fake.close()));
    throw error;
  }
  return {
    sendgrid,
    postmark,
    telnyx,
    writer,
    reset: () => all.forEach((fake) => fake.reset()),
    close: async () => {
      await Promise.all(all.map((fake) => fake.close()));
    },
  };
}
