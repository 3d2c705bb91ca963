import type { PinRules, ProviderAdapter } from '../providers/types.js';
import { mergePinRules } from '../domain/pin.js';

/**
 * The rules a PIN on this integration must meet: the provider's, with the integration's chosen
 * length (kept inside the provider's limits).
 */
export function pinRulesFor(adapter: ProviderAdapter, integration: { pinLength: number | null }): PinRules {
  const base = adapter.pinRules;
  if (integration.pinLength == null) return mergePinRules(base);
  const length = Math.min(base.maxLength, Math.max(base.minLength, integration.pinLength));
  return mergePinRules({ ...base, length });
}
