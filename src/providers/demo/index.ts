import { ProviderError, type ProviderModule } from '../types.js';
import { DemoAdapter } from './adapter.js';

export { DemoAdapter } from './adapter.js';
export type { DemoAdapterOptions } from './adapter.js';

export const demoProvider: ProviderModule = {
  kind: 'demo',
  label: 'Demo provider (built-in emulator)',
  credentialFields: [{ name: 'apiKey', label: 'API key', secret: true, required: true }],
  create({ baseUrl, credentials, ...transport }) {
    const apiKey = credentials.apiKey;
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new ProviderError('auth', "demo: the API key is missing; enter it in the integration's credentials");
    }
    return new DemoAdapter({ baseUrl, apiKey, ...transport });
  },
};
