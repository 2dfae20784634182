-- Live text of engine_claim_due: this file (docs/ENGINE.md, "Database functions").
-- The claim, as a function so its plan is kept per connection like the executor's (a plain
-- statement is planned on every call, and the dispatcher claims before every round): up to
-- `p_limit` due enrollments, whose due time becomes the lease (docs/ENGINE.md, "Claims and
-- leases").
create or replace function engine_claim_due(p_now timestamptz, p_limit int, p_lease_until timestamptz, p_lease_id uuid)
returns table (enrollment_id uuid, lease_id uuid, due_at timestamptz)
language plpgsql as $$
#variable_conflict use_column
begin
  return query
  with due as (
    select e.id, e.next_execution_at from enrollments e
    where e.status in ('active', 'waiting') and e.next_execution_at is not null and e.next_execution_at <= p_now
    order by e.next_execution_at
    limit p_limit
    for update skip locked)
  update enrollments e set next_execution_at = p_lease_until, lease_id = p_lease_id
  from due where e.id = due.id
  returning e.id, e.lease_id, due.next_execution_at;
end
$$;
