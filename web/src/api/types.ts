/**
 * The wire shapes the dashboard reads, mirrored from the API's zod schemas (src/api/*.ts).
 * Fields the dashboard can live without are optional, so an older server still renders.
 */
export type Role = 'viewer' | 'operator' | 'admin';

export interface Me {
  workspace: { id: string; name: string; timezone?: string };
  role: Role;
  token: { id: string; name: string };
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/** A lead's lifecycle, lowest to highest (src/core/leadStatus.ts): set by what happens, never typed in. */
export type LeadStatus = 'new' | 'contacted' | 'replied' | 'bounced' | 'opted_out' | 'converted';

export interface Lead {
  id: string;
  email?: string | null;
  phone?: string | null;
  timezone?: string | null;
  firstName?: string | null;
  lastName?: string | null;
  company?: string | null;
  title?: string | null;
  status: LeadStatus;
  customFields?: Record<string, unknown>;
  createdAt: string;
  updatedAt?: string;
}

/** `POST /api/leads/{id}/convert` (src/api/leads.ts). */
export interface ConvertLeadResult {
  lead: Lead;
  /** Enrollments the conversion ended (their exitOn lists `converted`). */
  exited: string[];
}

/** `POST /api/leads/import` (src/api/leadImport.ts). */
export interface ImportResult {
  rows: number;
  imported: number;
  duplicates: number;
  failed: number;
  errors: Array<{ line: number; field?: string; message: string }>;
  leadIds: string[];
  dryRun: boolean;
}

export type EnrollmentStatus = 'active' | 'paused' | 'waiting' | 'completed' | 'cancelled' | 'converted' | 'exited' | 'failed';

export interface LeadSummary {
  id: string;
  email: string | null;
  phone: string | null;
  firstName: string | null;
  lastName: string | null;
  company: string | null;
}

/** `enrollmentSchema` in src/api/enrollmentWire.ts. */
export interface Enrollment {
  id: string;
  sequenceId: string;
  sequenceName: string;
  sequenceVersion: number;
  lead: LeadSummary;
  status: EnrollmentStatus;
  statusReason: string | null;
  waitingFor: 'task' | 'branch' | null;
  currentStep: { id: string; type: string; name: string | null; title: string | null; outcomes: string[] | null } | null;
  /** When the engine next looks at it; null when paused or finished. */
  nextRunAt: string | null;
  enrolledAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface EnrollResult {
  enrolled: Array<{ leadId: string; enrollmentId: string }>;
  skipped: Array<{ leadId: string; reason: string; message: string }>;
}

/** `timelineItemSchema` in src/api/timeline.ts; `data` holds the kind's own fields. */
export interface TimelineItem {
  id: string;
  kind: 'execution' | 'event' | 'activity' | 'change';
  at: string;
  enrollmentId: string | null;
  channel: string | null;
  summary: string;
  data: Record<string, unknown>;
}

export type SequenceStatus = 'draft' | 'active' | 'paused' | 'archived';

export interface Sequence {
  id: string;
  name: string;
  status: SequenceStatus;
  currentVersion?: number;
  version?: number;
  definition?: SequenceDefinition;
  versions?: Array<{ version: number; createdAt: string }>;
  stats?: { enrollments?: Record<string, number>; [key: string]: unknown };
  enrollmentCounts?: Record<string, number>;
  createdAt?: string;
  updatedAt?: string;
}

export interface Step {
  id: string;
  type: 'email' | 'sms' | 'voice' | 'wait' | 'branch' | 'task' | 'end';
  name?: string;
  next?: string;
  [key: string]: unknown;
}

export interface SequenceDefinition {
  name: string;
  description?: string;
  steps: Step[];
  [key: string]: unknown;
}

export interface Problem {
  path: string;
  message: string;
  stepId?: string;
  code?: string;
}

export interface PreviewEntry {
  at: string;
  stepId: string | null;
  type: string | null;
  action: string;
  detail: string;
}

/** The tasks inbox lists enrollments waiting for an operator. */
export type Task = Enrollment;
