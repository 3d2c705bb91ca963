import { ProviderError, type ProviderModule } from '../types.js';
import { IgloohomeAdapter } from './adapter.js';

export { IgloohomeAdapter } from './adapter.js';
export type { IgloohomeAdapterOptions } from './adapter.js';

const REAL_API_HOST = 'api.igloodeveloper.co';
const REAL_TOKEN_URL = 'https://auth.igloohome.co/oauth2/token';

/** The real API's token host is auth.igloohome.co; any other API host (an emulator, a proxy) serves /oauth2/token itself. */
export function defaultTokenUrl(baseUrl: string): string {
  try {
    const url = new URL(baseUrl);
    return url.hostname === REAL_API_HOST ? REAL_TOKEN_URL : `${url.origin}/oauth2/token`;
  } catch {
    return REAL_TOKEN_URL;
  }
}

const missing = (what: string) => new ProviderError('auth', `igloohome: the ${what} is missing; enter it in the integration's credentials`);

export const igloohomeProvider: ProviderModule = {
  kind: 'igloohome',
  label: 'igloohome (algoPIN, offline locks)',
  credentialFields: [
    { name: 'clientId', label: 'Client ID (iglooaccess API credentials)', secret: false, required: true },
    { name: 'clientSecret', label: 'Client secret', secret: true, required: true },
    { name: 'tokenUrl', label: 'Token URL (default https://auth.igloohome.co/oauth2/token)', secret: false, required: false },
  ],
  create({ baseUrl, credentials, ...transport }) {
    const clientId = credentials.clientId;
    const clientSecret = credentials.clientSecret;
    if (typeof clientId !== 'string' || clientId.trim() === '') throw missing('client ID');
    if (typeof clientSecret !== 'string' || clientSecret.trim() === '') throw missing('client secret');
    const tokenUrl = typeof credentials.tokenUrl === 'string' && credentials.tokenUrl.trim() !== '' ? credentials.tokenUrl.trim() : defaultTokenUrl(baseUrl);
    return new IgloohomeAdapter({ baseUrl, clientId: clientId.trim(), clientSecret, tokenUrl, ...transport });
  },
};
