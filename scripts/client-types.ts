/**
 * Generates src/client/openapi.ts, the request types of the TypeScript client, from the OpenAPI
 * document the API serves at /openapi.json. Run `npm run client:types` after changing a route;
 * test/client/openapi-drift.test.ts fails until you do.
 *
 * The document is taken from an in-process server (in-memory SQLite, a throwaway secret key, nothing
 * started), so generating needs no running Lockstep, no database and no network.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import { createApp } from '../src/app.js';
import { buildServer } from '../src/api/server.js';

export const CLIENT_TYPES_FILE = fileURLToPath(new URL('../src/client/openapi.ts', import.meta.url));

const HEADER = `/**
 * GENERATED FILE: do not edit. Made by \`npm run client:types\` (scripts/client-types.ts) with
 * openapi-typescript from the document Lockstep serves at /openapi.json.
 * test/client/openapi-drift.test.ts fails when a route changes and this file was not regenerated.
 */
/* eslint-disable */

`;

/** The OpenAPI document exactly as GET /openapi.json serves it. */
export async function liveOpenApiDocument(): Promise<OpenAPI3> {
  const app = await createApp({ databaseUrl: ':memory:', secretKey: randomBytes(32).toString('hex') });
  try {
    const server = await buildServer(app);
    try {
      const res = await server.inject({ method: 'GET', url: '/openapi.json' });
      if (res.statusCode !== 200) throw new Error(`GET /openapi.json answered ${res.statusCode}`);
      return res.json() as OpenAPI3;
    } finally {
      await server.close();
    }
  } finally {
    await app.close();
  }
}

/** The file's text for a document: the same document always gives the same bytes. */
export async function renderClientTypes(document: OpenAPI3): Promise<string> {
  // A copy: openapi-typescript's bundler annotates the object it is given.
  const nodes = await openapiTS(structuredClone(document), { silent: true, alphabetize: false });
  return HEADER + astToString(nodes).trimEnd() + '\n';
}

async function main(): Promise<void> {
  writeFileSync(CLIENT_TYPES_FILE, await renderClientTypes(await liveOpenApiDocument()));
  console.log(`wrote ${CLIENT_TYPES_FILE}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((err) => {
    console.error(err);
    process.exitCode = 1;
  });
}
