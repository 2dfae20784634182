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

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  for (const f of topFrames(process.argv[2]!, Number(process.argv[3] ?? 20))) {
    console.log(`${(f.share * 100).toFixed(1).padStart(5)} %  ${String(f.selfMs).padStart(6)} ms  ${f.name}  ${f.where}`);
  }
}
