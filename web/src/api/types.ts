/**
 * The wire shapes the dashboard reads, named for the pages. None is written by hand: each is
 * an alias of schema.gen.ts, which `npm run gen:api` generates from the API's OpenAPI document
 * (itself built from the zod schemas in src/api), so a schema change that the dashboard does
 * not follow fails `npx tsc --noEmit -p web`. The one shape the OpenAPI document leaves open,
 * the sequence definition (validated by src/core, not by the route's schema, so that every
 * problem comes back with its JSON path), is typed from src/core/definition.ts instead.
 */
import type { SequenceDefinitionInput, StepType } from '../../../src/core/definition.ts';
import type { components, paths } from './schema.gen.ts';

type Schemas = components['schemas'];
type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type JsonOf<R> = R extends { content: { 'application/json': infer Body } } ? Body : never;

/** The JSON body of a route's successful answer (200, or 201 for a creation). */
export type Answer<P extends keyof paths, M extends Method> = paths[P][M] extends { responses: infer R }
  ? R extends { 200: infer Ok }
    ? JsonOf<Ok>
    : R extends { 201: infer Created }
      ? JsonOf<Created>
      : never
  : never;

/** The JSON body a route takes; pages check what they send with `satisfies Body<…>`. */
export type Body<P extends keyof paths, M extends Method> = paths[P][M] extends { requestBody?: infer B } ? JsonOf<NonNullable<B>> : never;

export type Me = Answer<'/api/me', 'get'>;
export type Role = NonNullable<Me['role']>;

/** The envelope of every paged list: `items`, and the cursor of the next page or null. */
export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type Lead = Schemas['Lead'];
/** A lead as the list answers it: the lead and its running sequences (step, next run). */
export type LeadListItem = Schemas['LeadListItem'];
/** A lead's lifecycle, lowest to highest (src/core/leadStatus.ts): set by what happens, never typed in. */
export type LeadStatus = Lead['status'];

/** `POST /api/leads/{id}/convert`: the lead, and the enrollments the conversion ended. */
export type ConvertLeadResult = Answer<'/api/leads/{id}/convert', 'post'>;
/** `POST /api/leads/import`. */
export type ImportResult = Answer<'/api/leads/import', 'post'>;

export type Enrollment = Schemas['Enrollment'];
export type EnrollmentStatus = Enrollment['status'];
export type LeadSummary = Enrollment['lead'];
export type EnrollResult = Answer<'/api/sequences/{id}/enrollments', 'post'>;
/** The lead list's filter, as the list, the export, bulk actions and saved filters take it. */
export type LeadFilter = Schemas['LeadFilter'];
/** `POST /api/leads/bulk`: what happened (or, for a dry run, would), with a sentence. */
export type BulkResult = Schemas['BulkResult'];
export type BulkBody = Body<'/api/leads/bulk', 'post'>;
export type LeadCount = Answer<'/api/leads/count', 'get'>;
export type SavedFilter = Schemas['SavedFilter'];

/** `data` holds the kind's own fields. */
export type TimelineItem = Schemas['TimelineItem'];

/** A sequence as lists show it. */
export type Sequence = Schemas['Sequence'];
/** One sequence with its current definition (`GET /api/sequences/{id}`, and what saving answers). */
export type SequenceDetail = Answer<'/api/sequences/{id}', 'get'>;
export type SequenceStatus = Sequence['status'];
export type SequenceStats = Answer<'/api/sequences/{id}/stats', 'get'>;
export type SequenceVersion = Schemas['SequenceVersion'];
export type SequenceVersionDetail = Answer<'/api/sequences/{id}/versions/{version}', 'get'>;

/**
 * A step as the editor holds it. A draft is often invalid while someone types (a branch
 * without `then` yet), so its fields stay open; the server's validation names what is wrong.
 */
export interface Step {
  id: string;
  type: StepType;
  name?: string;
  next?: string;
  [key: string]: unknown;
}

/** The document as a person writes it (before defaults), with the editor's open steps. */
export type SequenceDefinition = Omit<SequenceDefinitionInput, 'steps'> & { steps: Step[] };

export type Problem = Schemas['DefinitionProblem'];
export type Validation = Answer<'/api/sequences/validate', 'post'>;
export type Preview = Answer<'/api/sequences/{id}/preview', 'post'>;
export type PreviewEntry = Preview['entries'][number];
/** `GET /api/executions`: recent executions with their lead and sequence (the Monitoring page's failures). */
export type RecentExecution = Answer<'/api/executions', 'get'>['items'][number];

/** The tasks inbox lists enrollments waiting for an operator, each with its assignee and due time. */
export type Task = Schemas['Task'];
/** A lead's owner (and a task's assignee): a member's account. */
export type LeadOwner = Schemas['LeadOwner'];

/** Fails to compile when a paged route stops answering `Page<its item>`. */
type Holds<T extends true> = T;
type PagedAs<P extends keyof paths, Item> = Answer<P, 'get'> extends Page<Item> ? (Page<Item> extends Answer<P, 'get'> ? true : false) : false;
export type PagedRoutesAnswerPages = [
  Holds<PagedAs<'/api/leads', LeadListItem>>,
  Holds<PagedAs<'/api/sequences', Sequence>>,
  Holds<PagedAs<'/api/sequences/{id}/enrollments', Enrollment>>,
  Holds<PagedAs<'/api/leads/{id}/timeline', TimelineItem>>,
  Holds<PagedAs<'/api/tasks', Task>>,
];

/** Outbound webhooks (docs/INTEGRATIONS.md, "Webhooks out"). */
export type WebhookEndpoint = Schemas['WebhookEndpoint'];
export type WebhookEndpointWithSecret = Schemas['WebhookEndpointWithSecret'];
export type WebhookDelivery = Schemas['WebhookDelivery'];

/** People and workspaces (docs/ACCOUNTS.md). */
export type AuthOptions = Answer<'/api/auth/options', 'get'>;
export type Workspace = Schemas['Workspace'];
export type Member = Schemas['Member'];
export type Invite = Schemas['Invite'];
export type InviteCreated = Answer<'/api/invites', 'post'>;
export type InvitePreview = Answer<'/api/auth/invites/{token}', 'get'>;
export type AcceptedInvite = Answer<'/api/auth/invites/accept', 'post'>;
export type ApiToken = Schemas['Token'];
export type ApiTokenCreated = Answer<'/api/tokens', 'post'>;
/** Reports over time (docs/ANALYTICS.md, "Reports"). */
export type Report = Answer<'/api/reports', 'get'>;
export type ReportRow = Report['rows'][number];
export type ReplyClassCorrection = Answer<'/api/replies/{eventId}/class', 'put'>;

/** A rep's own SMTP (and IMAP) account (docs/MAILBOXES.md); passwords never come back, only `passwordSet`. */
export type Mailbox = Schemas['Mailbox'];
/** `POST /api/mailboxes/{id}/test`: `ok` and the server's one sentence. */
export type MailboxTest = Schemas['MailboxTest'];

/** `GET /api/leads/fields`: what a template may print, for the variable picker. */
export type TemplateFields = Answer<'/api/leads/fields', 'get'>;
/** `POST /api/sequences/preview-step`: a draft step rendered for one lead, each variant with its hints. */
export type StepPreviewResult = Answer<'/api/sequences/preview-step', 'post'>;
export type RenderedVariant = StepPreviewResult['variants'][number];

/** One entry of the suppression list (an email, a phone number on one channel, or an email domain "@domain"). */
export type Suppression = Schemas['Suppression'];
export type SuppressionImportResult = Answer<'/api/suppressions/import', 'post'>;
