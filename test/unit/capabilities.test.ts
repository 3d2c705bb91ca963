/**
 * `capabilities()`: an adapter names what it has; everything else is false, never undefined, and
 * the object cannot be changed at run time.
 */
import { describe, expect, it } from 'vitest';
import { capabilities } from '../../src/providers/types.js';

describe('provider capabilities', () => {
  it('fills every capability not named with false and leaves independentGrants unset', () => {
    const caps = capabilities({ pinOnLock: true, revocable: true });
    expect(caps).toEqual({
      accessGroups: false,
      providerUsers: false,
      membershipWindows: false,
      pinOnUser: false,
      pinOnLock: true,
      offlineAlgorithmicPin: false,
      mobileCredential: false,
      urlKey: false,
      pulseOpen: false,
      revocable: true,
      updatableGrants: false,
      issuesCredentials: false,
    });
    expect('independentGrants' in caps).toBe(false);
    expect(Object.isFrozen(caps)).toBe(true);
  });
});
