import { describeProviderContract } from './suite.js';
import { inletFixture } from './inlet.js';

describeProviderContract(inletFixture);
