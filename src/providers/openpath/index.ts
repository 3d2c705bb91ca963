import { ProviderError, type ProviderModule } from '../types.js';
import { OpenpathAdapter } from './adapter.js';

export { OpenpathAdapter } from './adapter.js';
export type { OpenpathAdapterOptions } from './adapter.js';

const missing = (what: string) => new ProviderError('auth', `openpath: the ${what} is missing; enter it in the integration's credentials`);

export const openpathProvider: ProviderModule = {
  kind: 'openpath',
  label: 'Avigilon Alta (formerly Openpath)',
  // Booking access on Alta opens 30 minutes either side by default (see notes.md, "The 30-minute grace").
  defaultBufferMinutes: { before: 30, after: 30 },
  credentialFields: [
    { name: 'email', label: 'Alta admin e-mail', secret: false, required: true },
    { name: 'password', label: 'Alta admin password', secret: true, required: true },
    { name: 'orgId', label: 'Alta organisation ID (one integration per location)', secret: false, required: true },
    { name: 'mobileCredential', label: "Create a mobile credential for new users and have Alta e-mail the app invite ('yes' or 'no', default 'no')", secret: false, required: false },
  ],
  create({ baseUrl, credentials, ...transport }) {
    const email = credentials.email?.trim();
    const password = credentials.password;
    const orgId = credentials.orgId?.trim();
    if (!email) throw missing('Alta admin e-mail');
    if (typeof password !== 'string' || password === '') throw missing('Alta admin password');
    if (!orgId) throw missing('Alta organisation ID');
    if (!/^\d+$/.test(orgId)) throw new ProviderError('auth', "openpath: the Alta organisation ID must be a number (it is in the Alta control centre's URL); fix it in the integration's credentials");
    const mobile = (credentials.mobileCredential ?? 'no').trim().toLowerCase();
    if (mobile !== 'yes' && mobile !== 'no' && mobile !== '') {
      throw new ProviderError('auth', "openpath: mobileCredential must be 'yes' or 'no'; fix it in the integration's credentials");
    }
    return new OpenpathAdapter({ baseUrl, email, password, orgId, mobileCredential: mobile === 'yes', ...transport });
  },
};
