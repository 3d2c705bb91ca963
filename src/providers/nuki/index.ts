import { ProviderError, type ProviderModule } from '../types.js';
import { NukiAdapter } from './adapter.js';

export { NukiAdapter } from './adapter.js';
export type { NukiAdapterOptions } from './adapter.js';

export const nukiProvider: ProviderModule = {
  kind: 'nuki',
  label: 'Nuki Web API (smart locks with keypads)',
  // Nuki publishes no number (see notes.md); 500/min keeps every worker together under the 600/min
  // the emulator assumes, and an admin can set the account's real figure per integration.
  defaultRateLimit: { perMinute: 500 },
  credentialFields: [{ name: 'apiToken', label: 'Nuki Web API token', secret: true, required: true }],
  create({ baseUrl, credentials, ...transport }) {
    const apiToken = credentials.apiToken;
    if (typeof apiToken !== 'string' || apiToken.trim() === '') {
      throw new ProviderError('auth', "nuki: the API token is missing; enter it in the integration's credentials");
    }
    return new NukiAdapter({ baseUrl, apiToken: apiToken.trim(), ...transport });
  },
};
