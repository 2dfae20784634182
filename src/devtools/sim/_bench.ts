import { openMemoryDatabase } from '../../db/memoryStore.ts';
const db = await openMemoryDatabase();
async function b(label: string, f: () => Promise<unknown>, n = 3000) { for (let i=0;i<200;i++) await f(); const t = performance.now(); for (let i = 0; i < n; i++) await f(); console.log(label, ((performance.now() - t) / n * 1000).toFixed(0), 'us'); }
await b('select 1 noparams', () => db.query('select 1'));
await b('select $1', () => db.query('select $1::int as x', [1]));
await b('select from enrollments', () => db.query("select id, status from enrollments where status in ('active','waiting') and next_execution_at is null limit 1"));
await b('txn empty+1', () => db.transaction(async (tx) => tx.query('select 1')));
