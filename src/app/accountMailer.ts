/**
 * Account emails (password reset links) through the configured email provider, the same adapter
 * sequences send with. Only with live delivery: on the mock default the CLI prints links instead.
 */
import { randomUUID } from 'node:crypto';
import type { AccountMailer } from '../accounts/accounts.ts';
import type { Config } from '../config.ts';
import type { EmailSender } from '../delivery/types.ts';

export function accountMailer(email: EmailSender, config: Config): AccountMailer {
  return async (message) => {
    // Not an execution of any enrollment: the envelope's ids are fresh, so no webhook about this
    // message can ever match a step.
    const result = await email.send({
      to: message.to,
      from: { email: config.EMAIL_FROM, ...(config.EMAIL_FROM_NAME ? { name: config.EMAIL_FROM_NAME } : {}) },
      subject: message.subject,
      text: message.text,
      idempotencyKey: message.key,
      executionId: randomUUID(),
      enrollmentId: randomUUID(),
      workspaceId: randomUUID(),
    });
    if (result.kind === 'failed') throw new Error(`The account email could not be sent (${result.code}): ${result.message}`);
  };
}
