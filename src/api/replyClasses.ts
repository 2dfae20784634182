/**
 * `PUT /api/replies/{eventId}/class`: an operator corrects the class a reply was given
 * (docs/ANALYTICS.md, "Reply sentiment"). The machine's class is kept beside the correction, so
 * the stats can say how often the classifier was corrected.
 */
import { z } from 'zod';
import { REPLY_CLASSES } from '../core/sentiment.ts';
import type { Engine } from '../engine/engine.ts';
import { callerOf } from './auth.ts';
import { commonErrors, fail, id, type Api } from './wire.ts';

export function replyClassRoutes(api: Api, engine: Engine) {
  api.put(
    '/replies/:eventId/class',
    {
      config: { minRole: 'operator' },
      schema: {
        summary: "Correct a reply's sentiment class",
        description: `Classes: ${REPLY_CLASSES.join(', ')}. The event is an \`email.replied\` or \`sms.replied\` of the workspace (its id is on the timeline).`,
        tags: ['events'],
        params: z.object({ eventId: id }),
        body: z.strictObject({ class: z.enum(REPLY_CLASSES) }),
        response: {
          200: z.object({
            eventId: id,
            class: z.enum(REPLY_CLASSES),
            machineClass: z.string().nullable(),
            source: z.literal('operator'),
            exited: z.array(id).describe('Enrollments the corrected class ended through their exitOn ("reply.<class>")'),
          }),
          ...commonErrors,
        },
      },
    },
    async (request, reply) => {
      const caller = callerOf(request);
      const corrected = await engine.correctReply({
        workspaceId: caller.workspaceId,
        eventId: request.params.eventId,
        replyClass: request.body.class,
        actor: caller.actor,
      });
      if (!corrected) return fail(reply, 404, 'not_found', `Reply ${request.params.eventId} does not exist (only email.replied and sms.replied events have a class).`);
      return { eventId: corrected.eventId, class: request.body.class, machineClass: corrected.machineClass, source: 'operator' as const, exited: corrected.exited };
    },
  );
}
