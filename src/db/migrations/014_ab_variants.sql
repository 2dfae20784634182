-- A/B variants (docs/SEQUENCES.md, "A/B variants"; docs/ANALYTICS.md). The variant an execution
-- sent is stored on its row: the assignment is deterministic, but a winner decided later changes
-- what new visits get, and stats must count what was sent, not what would be picked today.
alter table sequence_executions add column variant text;
-- Per-variant stats and the winner's evaluation read one step's variant rows; rows without a
-- variant (most of them) get no index entry.
create index sequence_executions_variant on sequence_executions (sequence_id, step_id, variant, enrollment_id)
  where variant is not null;

-- The automatic winner of a step's test, decided once with the figures it was decided on: from
-- then on new assignments at the step get the winner (docs/ANALYTICS.md, "Automatic winner").
create table ab_decisions (
  sequence_id uuid not null references sequences(id) on delete cascade,
  step_id text not null,
  workspace_id uuid not null references workspaces(id) on delete cascade,
  variant text not null,
  decided_at timestamptz not null,
  -- The verdict as computed (each variant's deliveries and replies, z, adjusted p, confidence).
  figures jsonb not null,
  primary key (sequence_id, step_id)
);

-- Reply sentiment (docs/ANALYTICS.md, "Reply sentiment"): the class of every reply, who gave it
-- (`rules`, `ai`, or `operator` after a correction), and the machine's class kept beside an
-- operator's correction so corrections can be counted.
alter table events add column reply_class text;
alter table events add column reply_class_source text check (reply_class_source in ('rules', 'ai', 'operator'));
alter table events add column reply_class_machine text;
alter table events add column reply_class_corrected_by text;
alter table events add column reply_class_corrected_at timestamptz;
