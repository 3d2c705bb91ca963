import { describeProviderContract } from './suite.js';
import { nukiFixture } from './nuki.js';

describeProviderContract(nukiFixture);
