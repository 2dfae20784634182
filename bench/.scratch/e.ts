import { openPgliteBench } from '../lib/databases.ts';
import { timelineRun } from '../workloads/timeline.ts';
const d = await openPgliteBench(); console.log('timeline', await timelineRun(d.db, { perKind: 250, walks: 3 })); await d.close();
