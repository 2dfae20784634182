/** Turns a `--json` result into the Markdown table: `node --import tsx bench/lib/toMarkdown.ts bench.json`. */
import { readFileSync } from 'node:fs';
import { markdownTable } from './report.ts';
import type { Row } from './workloads.ts';

const result = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as { rows: Row[] };
process.stdout.write(`${markdownTable(result.rows)}\n`);
