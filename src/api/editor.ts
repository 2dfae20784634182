/**
 * What the step editor asks (docs/SEQUENCES.md, "Writing steps"): the variables a template may
 * print (`GET /api/leads/fields`, the workspace's custom-field keys among them), and a draft step
 * rendered for one real lead (`POST /api/sequences/preview-step`) with every variant, the
 * variables the lead lacks and the length, spam and SMS-part hints. The draft is not saved: the
 * editor sends the step as it is on screen.
 */
import { z } from 'zod';
import { renderDraftContent } from '../core/content.ts';
import { emailHints, scriptHints, smsHints } from '../core/contentHints.ts';
import { textToHtml } from '../core/emailBody.ts';
import { stepSchema, type DeliveryStep } from '../core/definition.ts';
import { draftStepProblems } from '../core/draftStep.ts';
import { customFieldVariables, LEAD_VARIABLES, SENDER_VARIABLES, SEQUENCE_VARIABLES } from '../core/templateVariables.ts';
import { TemplateError, renderWithBlanks, leadScope } from '../core/templates.ts';
import { replySubject } from '../core/threads.ts';
import { applyVariant } from '../core/variants.ts';
import type { Db } from '../db/db.ts';
import { customFieldKeys, getLead } from '../db/leads.ts';
import { callerOf } from './auth.ts';
import { commonErrors, fail, id, type Api } from './wire.ts';

const variableSchema = z.object({ path: z.string(), label: z.string(), group: z.enum(['Lead', 'Custom fields', 'Sender', 'Sequence']) });

const text = (max: number) => z.string().max(max);
const previewStepBody = z.strictObject({
  leadId: id,
  step: z.record(z.string(), z.unknown()).describe('The email, sms or voice step as the editor holds it (unsaved); problems come back with paths under $.step'),
  sender: z
    .strictObject({ name: text(200).optional(), email: text(320).optional(), phone: text(40).optional() })
    .optional()
    .describe("The definition's sender, as typed so far"),
  sequence: z.strictObject({ name: text(200).optional(), description: text(2000).optional() }).optional(),
  thread: text(20_000)
    .optional()
    .describe('For an email without a subject: the subject template of the email it answers (the one before it); the preview shows "Re: …"'),
});

const hintsSchema = z.object({
  notes: z.array(z.string()).describe('Sentences to show; empty when nothing reads badly'),
  email: z
    .object({ subjectCharacters: z.number().int(), words: z.number().int(), characters: z.number().int(), links: z.number().int(), spamWords: z.array(z.string()) })
    .optional(),
  sms: z
    .object({
      encoding: z.enum(['GSM-7', 'UCS-2']),
      characters: z.number().int(),
      units: z.number().int(),
      segments: z.number().int(),
      perSegment: z.number().int(),
      remaining: z.number().int(),
      nonGsm: z.array(z.string()),
    })
    .optional(),
  script: z.object({ words: z.number().int(), seconds: z.number().int() }).optional(),
});

const renderedSchema = z.object({
  variant: z.string().nullable().describe("The A/B variant's id; null for a step without variants"),
  subject: z.string().nullable().describe('Email: the rendered subject ("Re: …" when it answers in the thread); null when there is nothing to answer'),
  threaded: z.boolean(),
  text: z.string().describe('The plain-text part (email), the message (sms) or the script (voice)'),
  html: z.string().nullable().describe('Email: the HTML part as sent (for a plain-text body, the plain-looking HTML every email carries beside its text); null for SMS and voice'),
  voicemail: z.string().nullable(),
  missing: z.array(z.string()).describe('Variables printed without a default that are empty for this lead (a send would be refused)'),
  hints: hintsSchema,
});

export function editorRoutes(api: Api, db: Db) {
  api.get(
    '/leads/fields',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'What templates may print: lead fields, the custom-field keys in use, sender and sequence fields',
        tags: ['leads'],
        response: {
          200: z.object({
            variables: z.array(variableSchema),
            customFields: z.array(z.object({ key: z.string(), leads: z.number().int() })).describe('Keys among the newest 5,000 leads, most used first (at most 200)'),
          }),
          ...commonErrors,
        },
      },
    },
    async (request) => {
      const keys = await customFieldKeys(db, callerOf(request).workspaceId);
      return {
        variables: [...LEAD_VARIABLES, ...customFieldVariables(keys.map((k) => k.key)), ...SENDER_VARIABLES, ...SEQUENCE_VARIABLES],
        customFields: keys,
      };
    },
  );

  api.post(
    '/sequences/preview-step',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: 'Render a draft email, sms or voice step for one lead, each variant, with missing variables and hints',
        tags: ['sequences'],
        body: previewStepBody,
        response: {
          200: z.object({ leadId: id, type: z.enum(['email', 'sms', 'voice']), variants: z.array(renderedSchema), missing: z.array(z.string()) }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const body = request.body;
      const problems = draftStepProblems(body.step);
      if (problems.length > 0) {
        const first = problems[0]!;
        return fail(reply, 400, 'invalid_step', `The step cannot be previewed: ${first.path}: ${first.message}`, { problems });
      }
      const step = stepSchema.parse(body.step) as DeliveryStep;
      const lead = await getLead(db, caller.workspaceId, body.leadId);
      if (!lead) return fail(reply, 404, 'not_found', `Lead ${body.leadId} does not exist.`);
      const context = { lead, sender: body.sender, sequence: body.sequence };
      const ids = step.type === 'voice' ? [] : (step.variants ?? []).map((v) => v.id);
      let variants;
      try {
        variants = (ids.length > 0 ? ids : [undefined]).map((variantId) => {
          const { content, missing } = renderDraftContent(applyVariant(step, variantId), context);
          let subject = content.subject ?? null;
          const threaded = step.type === 'email' && subject === null;
          if (threaded && body.thread?.trim()) {
            subject = replySubject(renderWithBlanks(body.thread, { lead: leadScope(lead), sender: { ...body.sender }, sequence: { ...body.sequence } }));
          }
          const hints =
            step.type === 'email'
              ? (({ notes, ...email }) => ({ notes, email }))(emailHints({ subject, text: content.text, html: content.html }))
              : step.type === 'sms'
                ? (({ notes, ...sms }) => ({ notes, sms }))(smsHints(content.text))
                : (({ notes, ...script }) => ({ notes, script }))(scriptHints(content.text));
          return {
            variant: variantId ?? null,
            subject,
            threaded,
            text: content.text,
            // Every email goes out as text + HTML (docs/SEQUENCES.md, "HTML and Markdown"): the
            // preview shows the HTML part a plain-text body gets too, as the lead will see it.
            html: step.type === 'email' ? (content.html ?? textToHtml(content.text)) : null,
            voicemail: content.voicemail ?? null,
            missing,
            hints,
          };
        });
      } catch (error) {
        // Over a limit at render time (a loop that only this lead's data makes long).
        if (!(error instanceof TemplateError)) throw error;
        return fail(reply, 400, 'invalid_step', `The step cannot be previewed for this lead: ${error.message}`);
      }
      return { leadId: lead.id, type: step.type, variants, missing: [...new Set(variants.flatMap((v) => v.missing))] };
    },
  );
}
