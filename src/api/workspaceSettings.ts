/**
 * Workspace settings for admins: the per-lead frequency cap (docs/API.md, "Workspace
 * settings"). GET answers the caps in force, each with where it comes from; PATCH sets a
 * channel's cap for this workspace (null returns it to the deployment's default).
 */
import { z } from 'zod';
import { CHANNELS } from '../core/definition.ts';
import { effectiveCaps, type FrequencyCaps } from '../core/limits.ts';
import type { Db } from '../db/db.ts';
import { getFrequencyCaps, setFrequencyCaps, type CapOverrides } from '../db/workspaceSettings.ts';
import { callerOf } from './auth.ts';
import { commonErrors, fail, type Api } from './wire.ts';

const MAX_CAP = 1000;
const cap = z.number().int().min(0).max(MAX_CAP);
const perChannel = <T extends z.ZodType>(value: T) => z.strictObject({ email: value, sms: value, voice: value });

const settingsSchema = z
  .object({
    frequencyCaps: perChannel(cap).describe('Sends per channel per lead per local day, across sequences, in force now (0 = no cap)'),
    frequencyCapDefaults: perChannel(cap).describe("The deployment's defaults (FREQUENCY_CAP_*_PER_DAY)"),
    frequencyCapOverrides: z
      .strictObject({ email: cap.optional(), sms: cap.optional(), voice: cap.optional() })
      .describe("This workspace's own values; a channel not listed takes the default"),
  })
  .meta({ id: 'WorkspaceSettings' });

const patchBody = z
  .strictObject({
    frequencyCaps: z
      .strictObject({ email: cap.nullable().optional(), sms: cap.nullable().optional(), voice: cap.nullable().optional() })
      .describe(`A cap per channel, 0–${MAX_CAP} (0 = no cap); null returns the channel to the default`),
  })
  .describe('Only the channels given change');

export function workspaceSettingsRoutes(api: Api, db: Db, defaults: FrequencyCaps) {
  const answer = (overrides: CapOverrides) => {
    const own = Object.fromEntries(CHANNELS.flatMap((c) => (typeof overrides[c] === 'number' ? [[c, overrides[c]]] : [])));
    return { frequencyCaps: effectiveCaps(defaults, overrides), frequencyCapDefaults: defaults, frequencyCapOverrides: own };
  };

  api.get(
    '/workspace/settings',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: "The workspace's settings: the per-lead frequency cap",
        tags: ['workspace'],
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const overrides = await getFrequencyCaps(db, callerOf(request).workspaceId);
      if (!overrides) return fail(reply, 404, 'not_found', 'The workspace of this token no longer exists.');
      return answer(overrides);
    },
  );

  api.patch(
    '/workspace/settings',
    {
      config: { minRole: 'admin' },
      schema: {
        summary: 'Change the per-lead frequency cap of this workspace',
        description: 'Sends over the cap are never dropped: they move to the first opening of the next local day (docs/SEQUENCES.md, "Frequency cap").',
        tags: ['workspace'],
        body: patchBody,
        response: { 200: settingsSchema, ...commonErrors },
      },
    },
    async (request, reply) => {
      const overrides = await setFrequencyCaps(db, callerOf(request).workspaceId, request.body.frequencyCaps);
      if (!overrides) return fail(reply, 404, 'not_found', 'The workspace of this token no longer exists.');
      return answer(overrides);
    },
  );
}
