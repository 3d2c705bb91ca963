import { describeProviderContract } from './suite.js';
import { gallagherFixture } from './gallagher.js';

describeProviderContract(gallagherFixture);
