import { ProviderError, type ProviderModule } from '../types.js';
import { SeamAdapter } from './adapter.js';

export { SeamAdapter } from './adapter.js';
export type { SeamAdapterOptions } from './adapter.js';

/** Seam's production API; the integration's base URL overrides it (the fake, a proxy, a test). */
export const SEAM_API_URL = 'https://connect.getseam.com';

export const seamProvider: ProviderModule = {
  kind: 'seam',
  label: 'Seam (August, Schlage, Yale, Nuki, igloohome and other smart locks)',
  credentialFields: [{ name: 'apiKey', label: 'Seam API key (seam_…)', secret: true, required: true }],
  create({ baseUrl, credentials, ...transport }) {
    const apiKey = credentials.apiKey;
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new ProviderError('auth', "seam: the API key is missing; enter it in the integration's credentials");
    }
    return new SeamAdapter({ baseUrl: baseUrl || SEAM_API_URL, apiKey: apiKey.trim(), ...transport });
  },
};
