-- Live text of webhook_iso: this file (docs/ENGINE.md, "Database functions").
-- A time as outbound webhook payloads carry it: ISO-8601 in UTC with milliseconds, the shape
-- JavaScript's Date#toISOString gives, so payloads built here and in TypeScript agree.
create or replace function webhook_iso(p_at timestamptz) returns text
language sql immutable as $$
  select to_char(p_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
$$;
