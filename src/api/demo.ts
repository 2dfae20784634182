/**
 * Demo data in the caller's workspace (docs/DASHBOARD.md, "Demo data"): whether there is some
 * (the dashboard's banner), load it (idempotent), remove it. The same as
 * `touchpoint seed --demo [--remove]`, without stopping the server.
 */
import { z } from 'zod';
import type { Db } from '../db/db.ts';
import { countDemoData } from '../db/demo.ts';
import { removeDemoData, seedDemoData } from '../engine/demoData.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { commonErrors, errorSchema, fail, id, type Api } from './wire.ts';

const countsSchema = z.object({ leads: z.number().int(), sequences: z.number().int() });

export function demoRoutes(api: Api, db: Db, engine: Engine, options: { mockDelivery: boolean }) {
  api.get(
    '/demo',
    {
      config: { minRole: 'viewer' },
      schema: {
        summary: "The workspace's demo data, if any",
        description: 'Demo leads (CRM id `demo:…`) and demo sequences; `present` is true while any is left.',
        tags: ['workspaces'],
        response: { 200: countsSchema.extend({ present: z.boolean(), mockDelivery: z.boolean() }), ...commonErrors },
      },
    },
    async (request) => {
      const counts = await countDemoData(db, callerOf(request).workspaceId);
      return { ...counts, present: counts.leads + counts.sequences > 0, mockDelivery: options.mockDelivery };
    },
  );

  api.post(
    '/demo',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Load demo data into the workspace',
        description:
          'Eight leads in zones where it is working hours now and two active sequences whose first steps run within a minute on mock delivery (a send, simulated replies, tasks). Running it again adds nothing that exists. Refused (409) with live delivery: demo addresses are not real.',
        tags: ['workspaces'],
        response: {
          200: z.object({
            leadsCreated: z.number().int(),
            leadsKept: z.number().int(),
            enrolled: z.number().int(),
            sequences: z.array(z.object({ id, name: z.string(), created: z.boolean() })),
          }),
          409: errorSchema,
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      if (!options.mockDelivery) {
        return fail(reply, 409, 'live_delivery', 'Demo data needs mock delivery (USE_MOCK_SEQUENCE_DELIVERY=true): its addresses are not real, and live providers would try to reach them.');
      }
      const caller = callerOf(request);
      return seedDemoData({ db, clock: engine.deps.clock, wake: engine.wake }, {
        workspaceId: caller.workspaceId,
        actor: `demo data (${caller.actor})`,
      });
    },
  );

  api.delete(
    '/demo',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Remove the demo data',
        description: 'Deletes the demo leads (with their enrollments and timelines) and the demo sequences. Nothing else is touched.',
        tags: ['workspaces'],
        response: { 200: z.object({ removed: countsSchema }), ...commonErrors },
      },
    },
    async (request) => ({ removed: await removeDemoData(db, callerOf(request).workspaceId) }),
  );
}
