import { ProviderError, type ProviderModule } from '../types.js';
import { SecCloudAdapter } from './adapter.js';

export { SecCloudAdapter } from './adapter.js';
export type { SecCloudAdapterOptions } from './adapter.js';

const blank = (v: unknown): boolean => typeof v !== 'string' || v.trim() === '';

export const secCloudProvider: ProviderModule = {
  kind: 'seccloud',
  label: 'SecCloud (assumed API contract; see notes)',
  credentialFields: [
    { name: 'apiKey', label: 'API key', secret: true, required: true },
    { name: 'siteId', label: 'Site id', secret: false, required: true },
  ],
  create({ baseUrl, credentials, ...transport }) {
    if (blank(credentials.apiKey)) {
      throw new ProviderError('auth', "seccloud: the API key is missing; enter it in the integration's credentials");
    }
    if (blank(credentials.siteId)) {
      throw new ProviderError('auth', "seccloud: the site id is missing; enter it in the integration's credentials");
    }
    return new SecCloudAdapter({ baseUrl, apiKey: credentials.apiKey, siteId: credentials.siteId.trim(), ...transport });
  },
};
