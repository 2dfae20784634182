import { openDatabase } from '../../src/db/open.ts';
const db = await openDatabase({ dataDir: process.argv[2] });
for (const round of [1,2,3]) {
let t = performance.now();
for (let i = 0; i < 1000; i++) await db.query('select $1::int', [i]);
console.log('select $1 µs', (performance.now() - t) / 1000 * 1000);
t = performance.now();
for (let i = 0; i < 300; i++) await db.query('update workspaces set name = name');
console.log('update µs', (performance.now() - t) / 300 * 1000);
}
