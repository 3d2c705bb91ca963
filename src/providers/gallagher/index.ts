import { ProviderError, type ProviderModule } from '../types.js';
import { GallagherAdapter } from './adapter.js';

export { GallagherAdapter } from './adapter.js';
export type { GallagherAdapterOptions } from './adapter.js';

const missing = (what: string) => new ProviderError('auth', `gallagher: ${what} is missing; enter it in the integration's credentials`);

export const gallagherProvider: ProviderModule = {
  kind: 'gallagher',
  label: 'Gallagher Command Centre (REST API)',
  credentialFields: [
    { name: 'apiKey', label: 'REST client API key (xxxx-xxxx-…)', secret: true, required: true },
    { name: 'divisionHref', label: 'Division href for new cardholders (e.g. https://cc.example.com:8904/api/divisions/2)', secret: false, required: true },
  ],
  create({ baseUrl, credentials, ...transport }) {
    const apiKey = credentials.apiKey;
    if (typeof apiKey !== 'string' || apiKey.trim() === '') throw missing('the API key');
    const divisionHref = credentials.divisionHref;
    if (typeof divisionHref !== 'string' || divisionHref.trim() === '') throw missing('the division href for new cardholders');
    return new GallagherAdapter({ baseUrl, apiKey: apiKey.trim(), divisionHref: divisionHref.trim(), ...transport });
  },
};
