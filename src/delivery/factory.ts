/**
 * Chooses the delivery adapters from config: the mocks by default
 * (`USE_MOCK_SEQUENCE_DELIVERY=true`), the live providers when the flag is false. A live
 * channel without its credentials is a configuration error at start, not a failure at 3 a.m.
 */
import type { Config } from '../config.ts';
import { ConfigError } from '../config.ts';
import { PostmarkEmailSender } from './email/postmark.ts';
import { SmtpMailboxSender, type SmtpSenderOptions } from './email/smtp.ts';
import { SendGridEmailSender } from './email/sendgrid.ts';
import { MockDelivery, type MockDeliveryOptions } from './mock.ts';
import { TelnyxSmsSender } from './sms/telnyx.ts';
import type { DeliveryAdapters } from './types.ts';
import { TelnyxVoiceCaller } from './voice/telnyx.ts';

export interface AdapterChoice {
  adapters: DeliveryAdapters;
  /** Present when the mocks are in use, so the runtime can record their sends. */
  mock?: MockDelivery;
}

export function createAdapters(config: Config, mockOptions: MockDeliveryOptions = {}, smtpOptions: SmtpSenderOptions = {}): AdapterChoice {
  if (config.USE_MOCK_SEQUENCE_DELIVERY) {
    const mock = new MockDelivery(mockOptions);
    return { adapters: mock.adapters(), mock };
  }
  const missing = (name: string) =>
    new ConfigError(`USE_MOCK_SEQUENCE_DELIVERY is false but ${name} is not set; set it, or set USE_MOCK_SEQUENCE_DELIVERY=true.`);
  const webhookBase = config.PUBLIC_URL?.replace(/\/$/, '');
  // The engine's clock (the mocks' `now`): every send's deadline is measured by it.
  const clock = mockOptions.now;
  const now = clock ? () => clock().getTime() : undefined;

  let email: DeliveryAdapters['email'];
  if (config.EMAIL_PROVIDER === 'postmark') {
    if (!config.POSTMARK_SERVER_TOKEN) throw missing('POSTMARK_SERVER_TOKEN');
    email = new PostmarkEmailSender({ serverToken: config.POSTMARK_SERVER_TOKEN, baseUrl: config.POSTMARK_BASE_URL, now });
  } else {
    if (!config.SENDGRID_API_KEY) throw missing('SENDGRID_API_KEY');
    email = new SendGridEmailSender({ apiKey: config.SENDGRID_API_KEY, baseUrl: config.SENDGRID_BASE_URL, now });
  }
  if (!config.TELNYX_API_KEY) throw missing('TELNYX_API_KEY');
  if (!config.TELNYX_CONNECTION_ID) throw missing('TELNYX_CONNECTION_ID');
  const webhookUrl = webhookBase ? `${webhookBase}/webhooks/telnyx` : undefined;
  return {
    adapters: {
      email,
      mailbox: new SmtpMailboxSender({ now, ...smtpOptions }),
      sms: new TelnyxSmsSender({
        apiKey: config.TELNYX_API_KEY,
        messagingProfileId: config.TELNYX_MESSAGING_PROFILE_ID,
        baseUrl: config.TELNYX_BASE_URL,
        webhookUrl,
        now,
      }),
      voice: new TelnyxVoiceCaller({
        apiKey: config.TELNYX_API_KEY,
        connectionId: config.TELNYX_CONNECTION_ID,
        baseUrl: config.TELNYX_BASE_URL,
        webhookUrl,
        now,
      }),
    },
  };
}
