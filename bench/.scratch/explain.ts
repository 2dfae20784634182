import { openDatabase } from '../../src/db/open.ts';
import { insertEnrollmentsSeries } from '../workloads/dormant.ts';
import { benchEngine } from '../lib/fixture.ts';
import type { Db, Queryable } from '../../src/db/db.ts';
const raw = await openDatabase({ dataDir: '/tmp/tb-explain' });
const [row] = await raw.query<{ id: string; workspaceId: string }>(`select s.id, s.workspace_id as "workspaceId" from sequences s limit 1`);
await insertEnrollmentsSeries(raw, { sequenceId: row!.id, workspaceId: row!.workspaceId }, { count: 100, from: 0, dueAt: new Date(Date.now() - 1000), spreadSeconds: 0 });
const stats = new Map<string, { n: number; ms: number; sql: string; params: unknown[] }>();
const wrap = (q: Queryable): Queryable => ({
  query: async (sql, params) => {
    const key = sql.replace(/\s+/g, ' ').slice(0, 70);
    const t = performance.now();
    try { return await q.query(sql, params); } finally {
      const ms = performance.now() - t;
      const s = stats.get(key) ?? { n: 0, ms: 0, sql, params: [...(params ?? [])] }; s.n++; s.ms += ms; stats.set(key, s);
    }
  },
});
const db: Db = { ...raw, query: wrap(raw).query, transaction: (fn) => raw.transaction((tx) => fn(wrap(tx))) };
const { engine } = benchEngine(db, { concurrency: 1 });
await engine.dispatcher.drain();
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) console.log(String(s.n).padStart(6), (s.ms / s.n * 1000).toFixed(0).padStart(6), 'µs', k);
const top = [...stats.values()].sort((a, b) => b.ms / b.n - a.ms / a.n).slice(0, 3);
for (const s of top) {
  if (/^\s*(with old|insert)/.test(s.sql)) continue;
  console.log(s.sql.slice(0, 200));
  for (const r of await raw.query<Record<string,string>>('explain analyze ' + s.sql, s.params)) console.log(Object.values(r)[0]);
}
