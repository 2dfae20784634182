import { runInProcess } from './runner.ts';
const quick = process.argv.includes('--quick');
const n = Number(process.argv[2] ?? 20);
const t0 = Date.now();
let st = 0;
await runInProcess(Array.from({length:n},(_, i)=>i+1), { quick }, (r) => { st += r.stats.statements; if (r.violation) console.log('FAIL', r.seed, r.violation.invariant); });
console.log(n, 'histories', (Date.now()-t0)/1000, 's', st, 'statements', process.cpuUsage());
