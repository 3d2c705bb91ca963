import { ProviderError, type ProviderModule } from '../types.js';
import { WEBHOOK_PIN_MAX, WEBHOOK_PIN_MIN, WebhookAdapter } from './adapter.js';

export { WebhookAdapter } from './adapter.js';
export type { WebhookAdapterOptions } from './adapter.js';

/** Shorter secrets are guessable offline from one captured signature. */
const MIN_SECRET_LENGTH = 16;

export const webhookProvider: ProviderModule = {
  kind: 'webhook',
  label: 'Signed webhook (any access-control system, via your own receiver)',
  credentialFields: [
    { name: 'signingSecret', label: 'Signing secret (shared with your receiver)', secret: true, required: true },
    { name: 'pinLength', label: 'PIN length (4–8, default 6)', secret: false, required: false },
  ],
  create({ baseUrl, credentials, ...transport }) {
    const signingSecret = credentials.signingSecret;
    if (typeof signingSecret !== 'string' || signingSecret.trim() === '') {
      throw new ProviderError('auth', "webhook: the signing secret is missing; enter it in the integration's credentials");
    }
    if (signingSecret.length < MIN_SECRET_LENGTH) {
      throw new ProviderError('auth', `webhook: the signing secret is too short (at least ${MIN_SECRET_LENGTH} characters); enter a longer one in the integration's credentials and on the receiver`);
    }
    let pinLength: number | undefined;
    const rawLength = credentials.pinLength;
    if (rawLength !== undefined && rawLength.trim() !== '') {
      pinLength = Number(rawLength.trim());
      if (!Number.isInteger(pinLength) || pinLength < WEBHOOK_PIN_MIN || pinLength > WEBHOOK_PIN_MAX) {
        throw new ProviderError('rejected', `webhook: the PIN length must be a whole number from ${WEBHOOK_PIN_MIN} to ${WEBHOOK_PIN_MAX}; fix it in the integration's settings`);
      }
    }
    return new WebhookAdapter({ baseUrl, signingSecret, pinLength, ...transport });
  },
};
