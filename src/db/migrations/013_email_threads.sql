-- Email threads (docs/SEQUENCES.md, "Threads"): every email carries a Message-ID Touchpoint
-- makes, kept with the execution's rendered content (`rendered.messageId`) from the moment its
-- intent is written. A reply names it in In-Reply-To/References; this index finds the execution
-- it answers in one probe, whatever provider or mailbox carried it.
create index sequence_executions_message_id on sequence_executions ((rendered ->> 'messageId'))
  where rendered ->> 'messageId' is not null;
