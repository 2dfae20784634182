import { openPgliteBench } from '../lib/databases.ts';
import { engineThroughput } from '../workloads/throughput.ts';
import { pgliteLoopThroughput } from '../peers/pgliteLoop.ts';
const N = Number(process.argv[2] ?? 300);
for (let r = 0; r < 3; r++) {
  let d = await openPgliteBench(); console.log('engine', await engineThroughput(d.db, N)); await d.close();
  d = await openPgliteBench(); console.log('loop', await pgliteLoopThroughput(d.db, N)); await d.close();
}
