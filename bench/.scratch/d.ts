import { openPgliteBench } from '../lib/databases.ts';
import { enrollViaEngine } from '../workloads/enroll.ts';
let d = await openPgliteBench(); console.log('warm', await enrollViaEngine(d.db, 10000)); await d.close();
d = await openPgliteBench(); console.log('engine', await enrollViaEngine(d.db, 20000)); await d.close();
