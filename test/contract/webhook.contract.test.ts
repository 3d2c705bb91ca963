import { describeProviderContract } from './suite.js';
import { webhookFixture } from './webhook.js';

describeProviderContract(webhookFixture);
