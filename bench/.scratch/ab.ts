import { openDatabase } from '../../src/db/open.ts';
import { createFixture, insertLeadsSql, enrollSql, benchEngine, countExecutions } from '../lib/fixture.ts';
import { resetStore } from '../lib/reset.ts';
const db = await openDatabase({});
for (const N of [150, 300, 300]) {
  await resetStore(db);
  const f = await createFixture(db);
  const ids = await insertLeadsSql(db, f, N);
  await enrollSql(db, f, ids, new Date(Date.now() - 1000));
  const { engine } = benchEngine(db, { batchSize: 100, concurrency: 8 });
  const c0 = process.cpuUsage(); const t = performance.now();
  await engine.dispatcher.drain();
  const c = process.cpuUsage(c0); const ms = performance.now() - t;
  const n = await countExecutions(db);
  console.log(JSON.stringify({ n, perSec: Math.round(n / ms * 1000), perCpuSec: Math.round(n / ((c.user + c.system) / 1e6)), cpuShare: ((c.user + c.system) / 1000 / ms).toFixed(2) }));
}
