import { openDatabase } from '../../src/db/open.ts';
import type { Db, Queryable } from '../../src/db/db.ts';
import { createFixture, insertLeadsSql, enrollSql, benchEngine, countExecutions } from '../lib/fixture.ts';
const N = Number(process.argv[2] ?? 300);
const raw = await openDatabase({});
const f = await createFixture(raw);
const ids = await insertLeadsSql(raw, f, N);
await enrollSql(raw, f, ids, new Date(Date.now() - 1000));
const stats = new Map<string, { n: number; ms: number }>();
let inQuery = 0;
const wrap = (q: Queryable): Queryable => ({
  query: async (sql, params) => {
    const key = sql.replace(/\s+/g, ' ').slice(0, 70);
    const t = performance.now();
    try { return await q.query(sql, params); } finally {
      const ms = performance.now() - t; inQuery += ms;
      const s = stats.get(key) ?? { n: 0, ms: 0 }; s.n++; s.ms += ms; stats.set(key, s);
    }
  },
});
let txMs = 0, txN = 0;
const db: Db = { ...raw, query: wrap(raw).query, transaction: async (fn) => { const t = performance.now(); try { return await raw.transaction((tx) => fn(wrap(tx))); } finally { txMs += performance.now() - t; txN++; } } };
const { engine } = benchEngine(db, { batchSize: 100, concurrency: Number(process.argv[3] ?? 1) });
const c0 = process.cpuUsage();
const t = performance.now();
await engine.dispatcher.drain();
const c = process.cpuUsage(c0);
const ms = performance.now() - t;
const n = await countExecutions(raw);
console.log({ n, ms, perSec: n / ms * 1000, cpuMs: (c.user + c.system) / 1000, perCpuSec: n / ((c.user + c.system) / 1e6), inQuery, txMs, txN });
for (const [k, s] of [...stats].sort((a, b) => b[1].ms - a[1].ms)) console.log(String(s.n).padStart(6), (s.ms / s.n * 1000).toFixed(0).padStart(6), 'µs', k);
