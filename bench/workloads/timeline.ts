/**
 * E. Timeline: page latency for a lead with 1,000 timeline items (250 each of executions,
 * events, activities and enrollment changes), walking every page of 50 newest-first through
 * GET /api/leads/{id}/timeline, several times over.
 */
import type { Db } from '../../src/db/db.ts';
import { startApi } from '../lib/api.ts';
import { createFixture, enrollSql, insertLeadsSql } from '../lib/fixture.ts';
import { latency, type Latency } from '../lib/stats.ts';

export interface TimelineRun {
  items: number;
  pages: number;
  latencyMs: Latency;
}

export async function seedTimeline(db: Db, perKind: number): Promise<{ workspaceId: string; leadId: string }> {
  const fixture = await createFixture(db);
  // Neighbours, so the indexes hold other leads' rows too.
  const others = await insertLeadsSql(db, fixture, 200, 1);
  await enrollSql(db, fixture, others, new Date(Date.now() + 86_400_000));
  const [leadId] = await insertLeadsSql(db, fixture, 1, 0);
  await enrollSql(db, fixture, [leadId!], new Date(Date.now() + 86_400_000));
  const [enrollment] = await db.query<{ id: string }>('select id from enrollments where lead_id = $1', [leadId]);
  const params = [fixture.workspaceId, leadId, enrollment!.id, fixture.sequenceId, perKind];
  await db.query(
    `insert into sequence_executions (workspace_id, enrollment_id, lead_id, sequence_id, step_id, step_type, channel, visit,
       idempotency_key, status, adapter, provider_message_id, rendered, started_at, completed_at)
     select $1, e.id, $2, $4, 'intro', 'email', 'email', g, e.id::text || ':intro:' || g, 'succeeded', 'mock', 'pm-' || g,
            jsonb_build_object('subject', 'Hello ' || g, 'text', repeat('Body text. ', 20)),
            now() - make_interval(mins => g * 4), now() - make_interval(mins => g * 4)
     from generate_series(1, $5::int) g, (select $3::uuid as id) e`,
    params,
  );
  await db.query(
    `insert into events (workspace_id, lead_id, enrollment_id, step_id, type, channel, provider, provider_event_id, occurred_at, received_at, data)
     select $1, $2, e.id, 'intro', 'email.opened', 'email', 'sendgrid', 'ev-' || e.id::text || '-' || g,
            now() - make_interval(mins => g * 4 + 1), now() - make_interval(mins => g * 4 + 1), '{"ip": "203.0.113.9"}'
     from generate_series(1, $5::int) g, (select $3::uuid as id) e where $4::uuid is not null`,
    params,
  );
  await db.query(
    `insert into activities (workspace_id, lead_id, kind, channel, outcome, body, actor, occurred_at)
     select $1, $2, 'call', 'voice', 'connected', 'Talked about pricing', 'user:bench', now() - make_interval(mins => g * 4 + 2)
     from generate_series(1, $5::int) g where $3::uuid is not null and $4::uuid is not null`,
    params,
  );
  await db.query(
    `insert into enrollment_changes (workspace_id, enrollment_id, lead_id, actor, action, from_status, to_status, at)
     select $1, $3, $2, 'system', 'advance', 'active', 'active', now() - make_interval(mins => g * 4 + 3)
     from generate_series(1, $5::int) g where $4::uuid is not null`,
    params,
  );
  await db.query('analyze');
  return { workspaceId: fixture.workspaceId, leadId: leadId! };
}

export async function timelineRun(db: Db, args: { perKind: number; walks: number }): Promise<TimelineRun> {
  const { workspaceId, leadId } = await seedTimeline(db, args.perKind);
  const api = await startApi(db, workspaceId);
  try {
    const samples: number[] = [];
    let items = 0;
    for (let walk = -1; walk < args.walks; walk++) {
      let cursor: string | null = null;
      items = 0;
      do {
        const path = `/api/leads/${leadId}/timeline?limit=50${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
        const started = performance.now();
        const page: { items: unknown[]; nextCursor: string | null } = await api.request('GET', path);
        if (walk >= 0) samples.push(performance.now() - started); // walk -1 warms up
        items += page.items.length;
        cursor = page.nextCursor;
      } while (cursor);
    }
    // The lead has its own enrollment change too ('enroll' is not written by enrollSql, so none).
    if (items < args.perKind * 4) throw new Error(`timeline walked ${items} items, expected ${args.perKind * 4}`);
    return { items, pages: samples.length / args.walks, latencyMs: latency(samples) };
  } finally {
    await api.close();
  }
}
