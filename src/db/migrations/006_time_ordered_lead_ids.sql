-- Time-ordered lead ids where the server has them (PostgreSQL 18, which PGlite is), as 005 did
-- for enrollments, their audit rows and executions (docs/BENCHMARKS.md, "Changes").
--
-- Every step writes index entries keyed by its lead: the execution's in the lead timeline
-- index, a finish's audit row in its own. With random lead ids each such entry lands on a
-- random leaf of an index that, on a big store, is larger than PGlite's 16 MB of shared buffers,
-- so most steps read a page back from the emulated file system. Leads created together
-- (an import, an API batch) are mostly enrolled and run together; with ids that grow with
-- time, their entries share a few leaves. Existing leads keep their ids.
do $$
begin
  if exists (select 1 from pg_proc where proname = 'uuidv7' and pronargs = 0) then
    alter table leads alter column id set default uuidv7();
  end if;
end
$$;
