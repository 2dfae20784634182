/**
 * The body formats of an email step, apart from their converters (emailBody.ts) so the
 * definition — which the dashboard loads — does not pull in Markdown and HTML libraries.
 */
export const EMAIL_FORMATS = ['text', 'markdown', 'html'] as const;
export type EmailFormat = (typeof EMAIL_FORMATS)[number];
