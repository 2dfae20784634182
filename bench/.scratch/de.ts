import { openPgliteBench } from '../lib/databases.ts';
import { enrollViaApi, enrollViaEngine } from '../workloads/enroll.ts';
import { timelineRun } from '../workloads/timeline.ts';
let d = await openPgliteBench(); console.log('engine', await enrollViaEngine(d.db, 20000)); await d.close();
d = await openPgliteBench(); console.log('api', await enrollViaApi(d.db, 20000)); await d.close();
d = await openPgliteBench(); console.log('timeline', await timelineRun(d.db, { perKind: 250, walks: 3 })); await d.close();
