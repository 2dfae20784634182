import { openDatabase } from '../../src/db/open.ts';
const db = await openDatabase({});
for (const round of [1,2]) {
let t = performance.now();
for (let i = 0; i < 2000; i++) await db.query('select 1');
console.log('select1 µs', (performance.now() - t) / 2000 * 1000);
t = performance.now();
for (let i = 0; i < 2000; i++) await db.query('select $1::int', [i]);
console.log('select $1 µs', (performance.now() - t) / 2000 * 1000);
t = performance.now();
for (let i = 0; i < 2000; i++) await db.transaction(async (tx) => { await tx.query('select 1'); });
console.log('tx µs', (performance.now() - t) / 2000 * 1000);
}
const c0 = process.cpuUsage(); const w0 = performance.now();
for (let i = 0; i < 3000; i++) await db.query('select $1::int', [i]);
const c = process.cpuUsage(c0); console.log('cpu/wall', (c.user + c.system) / 1000 / (performance.now() - w0));
