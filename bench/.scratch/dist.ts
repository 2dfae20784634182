import { distributedAvailable, distributedThroughput } from '../workloads/distributed.ts';
console.log(await distributedAvailable());
for (let i = 0; i < 2; i++) console.log(await distributedThroughput({ leads: 150, processes: 2, concurrency: 8, timeoutMs: 120000 }));
process.exit(0);
