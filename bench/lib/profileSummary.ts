/**
 * Summarises a `.cpuprofile` (from `node --cpu-prof`): the frames with the most self time,
 * and the share of total samples, so BENCHMARKS.md can say what the profile shows.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface Frame {
  name: string;
  where: string;
  selfMs: number;
  share: number;
}

export function topFrames(file: string, limit = 15): Frame[] {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { ms: number; name: string; where: string }>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const node = byId.get(id);
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    const where = url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/main\//, '')}:${lineNumber + 1}` : '';
    const key = `${functionName}|${where}`;
    const entry = self.get(key) ?? { ms: 0, name: functionName || '(anonymous)', where };
    entry.ms += ms;
    self.set(key, entry);
  });
  return [...self.values()]
    .sort((a, b) => b.ms - a.ms)
    .slice(0, limit)
    .map((e) => ({ name: e.name, where: e.where, selfMs: Math.round(e.ms), share: e.ms / total }));
}

/** Where self time goes, by owner: Postgres inside WASM, PGlite's JS glue, our code, libraries. */
export function categories(file: string): Array<{ category: string; ms: number; share: number }> {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const totals = new Map<string, number>();
  let busy = 0;
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    const category = categorize(node.callFrame.functionName, node.callFrame.url);
    if (category === 'idle') return;
    busy += ms;
    totals.set(category, (totals.get(category) ?? 0) + ms);
  });
  return [...totals]
    .sort((a, b) => b[1] - a[1])
    .map(([category, ms]) => ({ category, ms: Math.round(ms), share: ms / busy }));
}

function categorize(name: string, url: string): string {
  if (name === '(idle)') return 'idle';
  if (name === '(garbage collector)') return 'garbage collector';
  if (url.startsWith('wasm://')) return 'Postgres (PGlite WASM)';
  if (url.includes('@electric-sql/pglite') || url.includes('@electric-sql/pg-protocol')) return 'PGlite JS (protocol, FS, parsers)';
  const lib = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (lib) return `library: ${lib}`;
  if (url.includes('/src/')) return `touchpoint: ${url.replace(/^.*\/src\//, 'src/').replace(/\/[^/]*$/, '/')}`;
  if (url.includes('/bench/')) return 'bench harness';
  if (url.startsWith('node:') || url === '') return 'node internals / native';
  return 'other';
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  const file = process.argv[2]!;
  console.log('self time by owner (idle excluded):');
  for (const c of categories(file)) console.log(`${(c.share * 100).toFixed(1).padStart(5)} %  ${String(c.ms).padStart(6)} ms  ${c.category}`);
  console.log('\ntop frames by self time:');
  for (const f of topFrames(file, Number(process.argv[3] ?? 20))) {
    console.log(`${(f.share * 100).toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(6)} ms  ${f.name}  ${f.where}`);
  }
}
