/** The table printed at the end of a run. */
import type { Row } from './workloads.ts';

const fmt = (n: number | null | undefined, digits = 1) =>
  n === undefined || n === null || Number.isNaN(n) ? '—' : Math.abs(n) >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(digits);

export function printTable(rows: Row[], out: (line: string) => void): void {
  const header = ['figure', 'median', 'min', 'max', 'peer (median)', 'ratio', 'target', ''];
  const lines = rows.map((r) => [
    `${r.id} ${r.figure} (${r.unit})`,
    fmt(r.median),
    fmt(r.min),
    fmt(r.max),
    r.peer ? `${r.peer.name}: ${fmt(r.peer.median)}` : '',
    r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
    r.target ?? '',
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const render = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  out(render(header));
  out(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const line of lines) out(render(line));
  for (const r of rows.filter((r) => r.note)) out(`  ${r.id}: ${r.note}`);
}

/** The same table as Markdown, for docs/BENCHMARKS.md. */
export function markdownTable(rows: Row[]): string {
  const lines = [
    '| workload | figure | median | min | max | peer: median | ratio | target | |',
    '|---|---|--:|--:|--:|---|--:|---|---|',
    ...rows.map((r) =>
      [
        r.id,
        `${r.figure} (${r.unit})`,
        fmt(r.median),
        fmt(r.min),
        fmt(r.max),
        r.peer ? `${r.peer.name}: ${fmt(r.peer.median)}` : '',
        r.ratio === undefined ? '' : `${r.ratio.toFixed(2)}×`,
        r.target ?? '',
        r.met === undefined ? '' : r.met ? 'met' : '**missed**',
      ].join(' | '),
    ).map((line) => `| ${line} |`),
  ];
  const notes = rows.filter((r) => r.note).map((r) => `- ${r.id}: ${r.note}`);
  return [...lines, ...(notes.length ? ['', ...notes] : [])].join('\n');
}
