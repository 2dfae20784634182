-- The per-lead frequency cap per workspace (docs/SEQUENCES.md, "Frequency cap"): sends per
-- channel per lead per local day, e.g. {"email": 5, "sms": 0}. A channel left out (or the whole
-- column null) takes the deployment's default (FREQUENCY_CAP_*_PER_DAY); 0 means no cap.
alter table workspaces add column frequency_caps jsonb;
