/**
 * Every provider Lockstep can connect to, by kind. Adding a provider = adding its folder and one line here.
 */
import type { ProviderModule } from './types.js';
import { demoProvider } from './demo/index.js';
import { gallagherProvider } from './gallagher/index.js';
import { secCloudProvider } from './seccloud/index.js';
import { openpathProvider } from './openpath/index.js';
import { inletProvider } from './inlet/index.js';
import { igloohomeProvider } from './igloohome/index.js';
import { nukiProvider } from './nuki/index.js';
import { seamProvider } from './seam/index.js';
import { webhookProvider } from './webhook/index.js';

const modules: ProviderModule[] = [demoProvider, gallagherProvider, secCloudProvider, openpathProvider, inletProvider, igloohomeProvider, nukiProvider, seamProvider, webhookProvider];

export const providerKinds = modules.map((m) => m.kind);

export function providerModule(kind: string): ProviderModule | undefined {
  return modules.find((m) => m.kind === kind);
}

export function listProviderModules(): readonly ProviderModule[] {
  return modules;
}
