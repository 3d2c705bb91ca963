import { ProviderError, type ProviderModule } from '../types.js';
import { INLET_CREDENTIAL_TYPES, INLET_DELIVERY, InletAdapter, type InletCredentialType, type InletDelivery } from './adapter.js';

export { InletAdapter } from './adapter.js';
export type { InletAdapterOptions, InletCredentialType, InletDelivery } from './adapter.js';

/** A non-secret choice; blank means the default. */
function choice<T extends string>(value: string | undefined, allowed: readonly T[], field: string): T | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (!(allowed as readonly string[]).includes(v)) {
    throw new ProviderError('rejected', `inlet: ${field} must be one of ${allowed.join(', ')}`);
  }
  return v as T;
}

export const inletProvider: ProviderModule = {
  kind: 'inlet',
  label: 'Inlet Cloud Access Hub',
  credentialFields: [
    { name: 'apiKey', label: 'API key', secret: true, required: true },
    { name: 'credentialType', label: 'Credential the guest gets: access-code (default), mobile-key or url-key', secret: false, required: false },
    { name: 'delivery', label: 'Inlet also sends it by: none (default), sms or email', secret: false, required: false },
  ],
  create({ baseUrl, credentials, ...transport }) {
    const apiKey = credentials.apiKey;
    if (typeof apiKey !== 'string' || apiKey.trim() === '') {
      throw new ProviderError('auth', "inlet: the API key is missing; enter it in the integration's credentials");
    }
    const credentialType = choice<InletCredentialType>(credentials.credentialType, INLET_CREDENTIAL_TYPES, 'credentialType');
    const delivery = choice<InletDelivery>(credentials.delivery, INLET_DELIVERY, 'delivery');
    return new InletAdapter({ baseUrl, apiKey, credentialType, delivery, ...transport });
  },
};
