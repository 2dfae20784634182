-- The REST API's read paths. Timeline pages are keyset-paged on (at, id) per lead, newest
-- first: each source gets an index whose order is exactly the page order, so a page reads
-- `limit` rows from each source and never sorts the lead's whole history.
create index sequence_executions_lead_page on sequence_executions (lead_id, started_at desc, id desc);
create index events_lead_page on events (lead_id, occurred_at desc, id desc);
create index activities_lead_page on activities (lead_id, occurred_at desc, id desc);
create index enrollment_changes_lead_page on enrollment_changes (lead_id, at desc, id desc);
drop index sequence_executions_lead;
drop index events_lead;
drop index activities_lead;
drop index enrollment_changes_lead;

-- Enrollment lists per sequence, newest first, and the operator's task inbox.
create index enrollments_sequence_page on enrollments (sequence_id, enrolled_at desc, id desc);
create index enrollments_waiting on enrollments (workspace_id, step_entered_at, id)
  where status = 'waiting' and waiting_for is not null;

-- Activities may say which channel they touched (a logged call is voice), for the timeline filter.
alter table activities add column channel text check (channel in ('email', 'sms', 'voice'));
