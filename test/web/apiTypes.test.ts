/**
 * The dashboard's wire types are generated from the API's own OpenAPI document
 * (`npm run gen:api`); this regenerates them in memory and fails while the committed file lags
 * a schema change, so the dashboard can no longer drift from the API unnoticed.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiTypesSource, openApiDocument, SCHEMA_FILE } from '../../scripts/gen-api.ts';

describe('generated API types', () => {
  it('web/src/api/schema.gen.ts matches the OpenAPI document the API serves', async () => {
    const document = await openApiDocument();
    const fresh = await apiTypesSource(document);
    const committed = readFileSync(SCHEMA_FILE, 'utf8');
    if (committed !== fresh) expect.fail('web/src/api/schema.gen.ts is stale: run npm run gen:api and commit the result');
    // The same document prints the same bytes: a second run cannot make the file flap.
    expect(await apiTypesSource(document)).toBe(fresh);
  });
});
