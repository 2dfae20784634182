import { openDatabase } from '../../src/db/open.ts';
import { createFixture, insertLeadsSql, enrollSql } from '../lib/fixture.ts';
import { loadRunContext } from '../../src/engine/context.ts';
const db = await openDatabase({});
const f = await createFixture(db);
const ids = await insertLeadsSql(db, f, 1000);
await enrollSql(db, f, ids, new Date());
const eids = (await db.query<{ id: string }>('select id from enrollments')).map((r) => r.id);
await db.exec(`
create function bench_ctx(p_id uuid) returns json language plpgsql stable as $$
declare r json;
begin
  select json_build_object('e', row_to_json(e), 'lead', json_build_object('id', l.id, 'email', l.email, 'phone', l.phone, 'timezone', l.timezone,
         'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company, 'title', l.title,
         'customFields', l.custom_fields), 'wz', w.timezone) into r
  from enrollments e join leads l on l.id = e.lead_id join workspaces w on w.id = e.workspace_id where e.id = p_id;
  return r;
end $$;
create function bench_ctx_sql(p_id uuid) returns json language sql stable as $$
  select json_build_object('e', row_to_json(e), 'lead', json_build_object('id', l.id, 'email', l.email, 'phone', l.phone, 'timezone', l.timezone,
         'firstName', l.first_name, 'lastName', l.last_name, 'company', l.company, 'title', l.title,
         'customFields', l.custom_fields), 'wz', w.timezone)
  from enrollments e join leads l on l.id = e.lead_id join workspaces w on w.id = e.workspace_id where e.id = p_id;
$$;
`);
for (let round = 0; round < 3; round++) {
  let t = performance.now();
  for (const id of eids) await loadRunContext(db, id);
  console.log('loadRunContext µs', ((performance.now() - t) / eids.length * 1000).toFixed(0));
  t = performance.now();
  for (const id of eids) await db.query('select bench_ctx($1) as c', [id]);
  console.log('plpgsql µs', ((performance.now() - t) / eids.length * 1000).toFixed(0));
  t = performance.now();
  for (const id of eids) await db.query('select bench_ctx_sql($1) as c', [id]);
  console.log('sql fn µs', ((performance.now() - t) / eids.length * 1000).toFixed(0));
  t = performance.now();
  for (const id of eids) await db.query('select 1 as c where $1::uuid is not null', [id]);
  console.log('floor µs', ((performance.now() - t) / eids.length * 1000).toFixed(0));
}
