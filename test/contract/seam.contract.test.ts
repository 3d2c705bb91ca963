import { describeProviderContract } from './suite.js';
import { seamFixture } from './seam.js';

describeProviderContract(seamFixture);
