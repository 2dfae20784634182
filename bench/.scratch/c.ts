import { seedDormantStore, dormantRun } from '../workloads/dormant.ts';
const D = Number(process.argv[2] ?? 20000);
let t = performance.now();
const dir = await seedDormantStore(D);
console.log('seed s', (performance.now() - t) / 1000);
t = performance.now();
console.log(await dormantRun(dir, { dormant: D, due: 300, idleSeconds: 2 }));
console.log('run s', (performance.now() - t) / 1000);
