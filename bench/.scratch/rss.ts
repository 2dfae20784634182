import { openDatabase } from '../../src/db/open.ts';
console.log('start', process.memoryUsage().rss / 2**20);
const db = await openDatabase({ dataDir: process.argv[2] });
console.log('open', process.memoryUsage().rss / 2**20);
console.log(await db.query("select name, setting, unit from pg_settings where name in ('shared_buffers','work_mem','wal_buffers','effective_cache_size','fsync','synchronous_commit','maintenance_work_mem')"));
