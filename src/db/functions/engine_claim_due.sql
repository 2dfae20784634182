-- Live text of engine_claim_due: this file (docs/ENGINE.md, "Database functions").
-- The claim, as a function so its plan is kept per connection like the executor's (a plain
-- statement is planned on every call, and the dispatcher claims before every round): up to
-- `p_limit` due enrollments, whose due time becomes the lease (docs/ENGINE.md, "Claims and
-- leases").
--
-- Fair across workspaces (docs/ENGINE.md, "Fair claims across workspaces"): the batch is shared
-- among the workspaces that have something due, each getting ceil(limit × its claim_weight ÷ the
-- weights of those workspaces) rows (at least one), taken in its own due order through the index
-- (workspace_id, next_execution_at). What a workspace leaves of its share (it had less due) goes
-- to the others in a second pass, so a lone workspace still gets the whole batch. The workspaces
-- are visited in an order that changes with every claim (hashed with the lease id), so when more
-- workspaces are due than the batch has rows, each gets its turn.
create or replace function engine_claim_due(p_now timestamptz, p_limit int, p_lease_until timestamptz, p_lease_id uuid)
returns table (enrollment_id uuid, lease_id uuid, due_at timestamptz)
language plpgsql as $$
#variable_conflict use_column
declare
  v_ids uuid[];
  v_weights int[];
  v_total bigint;
  v_taken int := 0;
  v_room int;
  v_n int;
  v_pass int;
  i int;
begin
  select coalesce(array_agg(w.id order by hashtext(w.id::text || p_lease_id::text)), '{}'),
         coalesce(array_agg(w.claim_weight order by hashtext(w.id::text || p_lease_id::text)), '{}'),
         coalesce(sum(w.claim_weight), 0)
    into v_ids, v_weights, v_total
    from workspaces w
   where exists (select 1 from enrollments e
                  where e.workspace_id = w.id and e.status in ('active', 'waiting')
                    and e.next_execution_at is not null and e.next_execution_at <= p_now);
  if v_total = 0 then return; end if;
  for v_pass in 1..2 loop
    for i in 1..coalesce(array_length(v_ids, 1), 0) loop
      exit when v_taken >= p_limit;
      v_room := p_limit - v_taken;
      -- First pass: the workspace's share; second: whatever room is left.
      if v_pass = 1 then v_room := least(v_room, greatest(1, ceil(p_limit::numeric * v_weights[i] / v_total)::int)); end if;
      -- Ties on the due time go by id, and the claims come back in that order: never in the
      -- order rows happen to lie in the table or its index (which follows what the store held
      -- before; docs/SIMULATION.md, Findings 6).
      return query
      with due as (
        select e.id, e.next_execution_at from enrollments e
        where e.workspace_id = v_ids[i] and e.status in ('active', 'waiting')
          and e.next_execution_at is not null and e.next_execution_at <= p_now
        order by e.next_execution_at, e.id
        limit v_room
        for update skip locked),
      claimed as (
        update enrollments e set next_execution_at = p_lease_until, lease_id = p_lease_id
        from due where e.id = due.id
        returning e.id, e.lease_id, due.next_execution_at)
      select c.id, c.lease_id, c.next_execution_at from claimed c order by c.next_execution_at, c.id;
      get diagnostics v_n = row_count;
      v_taken := v_taken + v_n;
    end loop;
    exit when v_taken >= p_limit or array_length(v_ids, 1) = 1;
  end loop;
end
$$;
