/**
 * The client's request types must be what the API serves: regenerate them from the live document in
 * memory and compare with the committed file. (Once regenerated, a route the client calls that
 * disappears breaks `npm run typecheck`, and so does a caller sending a field the route dropped.)
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CLIENT_TYPES_FILE, liveOpenApiDocument, renderClientTypes } from '../../scripts/client-types.js';

describe('src/client/openapi.ts', () => {
  it('is generated from the live OpenAPI document', async () => {
    const expected = await renderClientTypes(await liveOpenApiDocument());
    const committed = readFileSync(CLIENT_TYPES_FILE, 'utf8');
    expect(committed === expected, 'src/client/openapi.ts is out of date with the API: run npm run client:types').toBe(true);
  });

  it('notices a changed route', async () => {
    const document = await liveOpenApiDocument();
    const before = await renderClientTypes(document);
    const body = (document.paths!['/v1/bookings'] as any).post.requestBody.content['application/json'].schema;
    body.properties.roomNumber = { type: 'string' };
    expect(await renderClientTypes(document)).not.toBe(before);
    expect(await renderClientTypes(document)).toContain('roomNumber');
  });

  it('is the same text every time (no dates, no paths from this machine)', async () => {
    const document = await liveOpenApiDocument();
    expect(await renderClientTypes(document)).toBe(await renderClientTypes(document));
  });
});
