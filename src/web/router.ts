/**
 * The console's page modules register their routes through this: each page says the role it needs,
 * and the router (src/web/index.ts) checks it, builds the WebContext and renders errors. Its own module
 * so pages do not import the index that imports them.
 */
import type { App } from '../app.js';
import type { Role } from '../api/auth.js';
import type { WebContext } from './context.js';

export type Body = Record<string, unknown>;
export interface WebRouter {
  get(path: string, role: Role, handler: (ctx: WebContext, params: Record<string, string>, query: Record<string, string>) => Promise<unknown>): void;
  post(path: string, role: Role, handler: (ctx: WebContext, params: Record<string, string>, body: Body) => Promise<unknown>): void;
}
export type WebModule = (r: WebRouter, app: App) => void;
