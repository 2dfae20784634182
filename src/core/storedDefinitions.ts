/**
 * Parsed sequence definitions, remembered per stored version. A version never changes once
 * written, so a sequence id and a version name one parse for the life of the process: the
 * engine's run contexts, enrolling, controls, ingest and the API's enrollment lists all ask here,
 * and the key is built here alone. Bounded: when full, the oldest entry goes first.
 */
import { sequenceDefinitionSchema, type SequenceDefinition } from './definition.ts';

const definitions = new Map<string, SequenceDefinition>();
const MAX_CACHED_DEFINITIONS = 1000;

function definitionKey(sequenceId: string, version: number): string {
  return `${sequenceId}:${version}`;
}

/** The parsed definition of a version, when it is remembered: callers load the stored one only on a miss. */
export function cachedDefinition(sequenceId: string, version: number): SequenceDefinition | undefined {
  return definitions.get(definitionKey(sequenceId, version));
}

/** Parses a stored version's definition once and remembers it; throws when it no longer parses. */
export function parseStoredDefinition(sequenceId: string, version: number, stored: unknown): SequenceDefinition {
  const key = definitionKey(sequenceId, version);
  let parsed = definitions.get(key);
  if (!parsed) {
    parsed = sequenceDefinitionSchema.parse(stored);
    if (definitions.size >= MAX_CACHED_DEFINITIONS) definitions.delete(definitions.keys().next().value!);
    definitions.set(key, parsed);
  }
  return parsed;
}
