import { runHistory } from './history.ts';
import { SimStore } from './store.ts';
const quick = process.argv.includes('--quick');
const n = Number(process.argv[2] ?? 20);
const store = await SimStore.open();
const db = store.db as any;
if (process.env.UNLOGGED) {
  const tables = (await db.query("select tablename as t from pg_tables where schemaname='public'")).map((r: any) => r.t);
  let left = [...tables];
  for (let round = 0; round < 20 && left.length; round++) { const next = []; for (const t of left) { try { await db.exec(`alter table ${t} set unlogged`); } catch { next.push(t); } } left = next; }
  console.log('unlogged; left logged:', left);
}
const cpu0 = process.cpuUsage();
const stats = new Map<string, { n: number; ms: number; rows: number }>();
const rec = (sql: string, ms: number, rows: number) => {
  const k = sql.replace(/\s+/g, ' ').slice(0, 90);
  const s = stats.get(k) ?? { n: 0, ms: 0, rows: 0 };
  s.n++; s.ms += ms; s.rows += rows; stats.set(k, s);
};
const q0 = db.query.bind(db);
db.query = async (sql: string, p?: unknown[]) => { const t = performance.now(); const r = await q0(sql, p); rec(sql, performance.now() - t, r.length); return r; };
const t0x = db.transaction.bind(db);
db.transaction = (fn: any) => { const t = performance.now(); return t0x((tx: any) => fn({ query: async (sql: string, p?: unknown[]) => { const t = performance.now(); const r = await tx.query(sql, p); rec(sql, performance.now() - t, r.length); return r; } })).finally(() => rec('TXN TOTAL', performance.now() - t, 0)); };
const e0 = db.exec.bind(db);
db.exec = async (sql: string) => { const t = performance.now(); await e0(sql); rec('EXEC ' + sql, performance.now() - t, 0); };
const t0 = Date.now();
for (let s = 1; s <= n; s++) await runHistory(store, { seed: s, quick, ...(process.env.SHAPE ? { shape: JSON.parse(process.env.SHAPE) } : {}) });
const c = process.cpuUsage(cpu0); console.log(n, 'histories', (Date.now() - t0) / 1000, 's', 'cpu', ((c.user + c.system) / 1e6).toFixed(1));
let tot = 0; for (const [k, v] of stats) if (k !== 'TXN TOTAL') tot += v.ms;
console.log('stmt total ms', tot.toFixed(0));
for (const [k, v] of [...stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 40)) console.log(v.ms.toFixed(0).padStart(7), String(v.n).padStart(6), (v.ms / v.n).toFixed(2).padStart(6), String(v.rows).padStart(6), k);
process.exit(0);
