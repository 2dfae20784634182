import { openPgliteBench } from '../lib/databases.ts';
import { lagRun } from '../workloads/lag.ts';
let d = await openPgliteBench(); console.log('steady', await lagRun(d.db, { enrollments: 100, spreadMs: 3000, timeoutMs: 60000 })); await d.close();
d = await openPgliteBench(); console.log('burst', await lagRun(d.db, { enrollments: 300, spreadMs: 0, timeoutMs: 60000 })); await d.close();
