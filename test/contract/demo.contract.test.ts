import { describeProviderContract } from './suite.js';
import { demoFixture } from './demo.js';

describeProviderContract(demoFixture);
