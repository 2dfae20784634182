import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { isValidZone } from '../core/definition.ts';
import { EVENT_TYPES } from '../core/events.ts';
import { REPLY_CLASSES } from '../core/sentiment.ts';
import { simulate, type SimulationEntry } from '../core/simulate.ts';
import { formatProblems, validateDefinition } from '../core/validate.ts';

class SimulateError extends Error {}

const leadSchema = z
  .object({
    id: z.string().default('simulated-lead'),
    email: z.string().nullish(),
    phone: z.string().nullish(),
    timezone: z.string().nullish(),
    firstName: z.string().nullish(),
    lastName: z.string().nullish(),
    company: z.string().nullish(),
    title: z.string().nullish(),
    customFields: z.record(z.string(), z.unknown()).default({}),
  })
  .refine((lead) => !lead.timezone || isValidZone(lead.timezone), { message: 'timezone is not a known IANA zone' });

const eventsSchema = z.array(
  z.object({
    type: z.enum(EVENT_TYPES),
    step: z.string().optional(),
    at: z.iso.datetime({ offset: true }),
    outcome: z.string().optional(),
    text: z.string().max(20_000).optional(),
    replyClass: z.enum(REPLY_CLASSES).optional(),
  }),
);

function readJson(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new SimulateError(`Cannot read the ${what} file ${path}: ${(error as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new SimulateError(`The ${what} file ${path} is not valid JSON: ${(error as Error).message}`);
  }
}

function parseWith<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const lines = result.error.issues.map((i) => `  $${i.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('')}: ${i.message}`);
  throw new SimulateError(`The ${what} is not valid:\n${lines.join('\n')}`);
}

export function formatTable(entries: SimulationEntry[]): string {
  const rows = entries.map((e) => [e.at.replace('.000Z', 'Z'), e.stepId ?? '-', e.type ?? '-', e.action, e.detail]);
  const header = ['at (UTC)', 'step', 'type', 'action', 'detail'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** `touchpoint simulate`: a dry run with no database and no sends. */
export async function runSimulate(argv: string[]): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        lead: { type: 'string' },
        start: { type: 'string' },
        events: { type: 'string' },
        json: { type: 'boolean', default: false },
        'workspace-timezone': { type: 'string' },
        // Seeds the A/B assignment as the engine does, to name the variant an enrolled lead gets.
        'enrollment-id': { type: 'string' },
      },
    });
    const [definitionPath] = positionals;
    if (!definitionPath) throw new SimulateError('Name the sequence definition file: touchpoint simulate <definition.json> --lead <lead.json>');
    if (!values.lead) throw new SimulateError('Give the lead with --lead <lead.json> (email, phone, timezone, firstName, …).');
    const validation = validateDefinition(readJson(definitionPath, 'definition'));
    if (!validation.ok) throw new SimulateError(`The sequence definition has problems:\n${formatProblems(validation.problems)}`);
    const lead = parseWith(leadSchema, readJson(values.lead, 'lead'), 'lead');
    const start = values.start ? new Date(values.start) : new Date();
    if (Number.isNaN(start.getTime())) throw new SimulateError(`--start "${values.start}" is not an ISO time such as 2026-03-06T14:00:00Z.`);
    const events = values.events ? parseWith(eventsSchema, readJson(values.events, 'events'), 'events file') : [];
    const entries = simulate({
      definition: validation.definition,
      lead,
      start,
      events: events.map((e) => ({ ...e, at: new Date(e.at) })),
      workspaceZone: values['workspace-timezone'],
      enrollmentId: values['enrollment-id'],
    });
    console.log(values.json ? JSON.stringify(entries, null, 2) : formatTable(entries));
    return 0;
  } catch (error) {
    if (error instanceof SimulateError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`touchpoint simulate: ${(error as Error).message}`);
      return 2;
    }
    throw error;
  }
}
