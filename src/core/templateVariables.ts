/**
 * What a template may print (docs/SEQUENCES.md, "Writing steps"), for the variable picker: the
 * lead's own fields, its custom fields, the sender's and the sequence's, and the Liquid that
 * prints one with a fallback. The scope itself is built in templates.ts (`leadScope`); the lists
 * here name the same keys, and templateVariables.test.ts renders every one of them.
 */

export interface TemplateVariable {
  /** What Liquid reads: `lead.firstName`, `lead.custom["Deal Size"]`. */
  path: string;
  label: string;
  group: 'Lead' | 'Custom fields' | 'Sender' | 'Sequence';
}

export const LEAD_VARIABLES: readonly TemplateVariable[] = [
  { path: 'lead.firstName', label: 'First name', group: 'Lead' },
  { path: 'lead.lastName', label: 'Last name', group: 'Lead' },
  { path: 'lead.company', label: 'Company', group: 'Lead' },
  { path: 'lead.title', label: 'Title', group: 'Lead' },
  { path: 'lead.email', label: 'Email', group: 'Lead' },
  { path: 'lead.phone', label: 'Phone', group: 'Lead' },
  { path: 'lead.timezone', label: 'Time zone', group: 'Lead' },
];

/** `sender.*` comes from the definition's `sender` (a mailbox sends from its own address, but templates read `sender`). */
export const SENDER_VARIABLES: readonly TemplateVariable[] = [
  { path: 'sender.name', label: 'Sender name', group: 'Sender' },
  { path: 'sender.email', label: 'Sender email', group: 'Sender' },
  { path: 'sender.phone', label: 'Sender phone', group: 'Sender' },
];

export const SEQUENCE_VARIABLES: readonly TemplateVariable[] = [
  { path: 'sequence.name', label: 'Sequence name', group: 'Sequence' },
  { path: 'sequence.description', label: 'Sequence description', group: 'Sequence' },
];

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * A custom field's path: `lead.custom.industry` for a plain name, `lead.custom["Deal Size"]`
 * otherwise (CSV headers keep their spaces). Always under `custom`, so a custom field named like
 * a lead field (`email`) cannot be confused with it.
 */
export function customFieldPath(key: string): string {
  return IDENTIFIER.test(key) ? `lead.custom.${key}` : `lead.custom[${JSON.stringify(key)}]`;
}

export function customFieldVariables(keys: readonly string[]): TemplateVariable[] {
  return keys.map((key) => ({ path: customFieldPath(key), label: key, group: 'Custom fields' }));
}

/**
 * The Liquid that prints a variable: `{{ lead.firstName | default: "there" }}` with a fallback,
 * `{{ lead.firstName }}` without one (then a lead lacking it is refused at enrollment). The
 * fallback is a Liquid string: quoted with whichever quote it does not hold (Liquid strings have
 * no escapes), and a fallback holding both loses its double quotes.
 */
export function variableTag(path: string, fallback = ''): string {
  if (fallback === '') return `{{ ${path} }}`;
  const literal = !fallback.includes('"') ? `"${fallback}"` : !fallback.includes("'") ? `'${fallback}'` : `"${fallback.replace(/"/g, '')}"`;
  return `{{ ${path} | default: ${literal} }}`;
}

/** The text with `insert` put in place of the selection [start, end): what a picker does at the cursor. */
export function insertAt(text: string, insert: string, start: number, end = start): { text: string; cursor: number } {
  const from = Math.max(0, Math.min(start, text.length));
  const to = Math.max(from, Math.min(end, text.length));
  return { text: text.slice(0, from) + insert + text.slice(to), cursor: from + insert.length };
}
