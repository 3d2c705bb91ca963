import { describeProviderContract } from './suite.js';
import { openpathFixture } from './openpath.js';

describeProviderContract(openpathFixture);
