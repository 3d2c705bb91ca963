import { describeProviderContract } from './suite.js';
import { secCloudFixture } from './seccloud.js';

describeProviderContract(secCloudFixture);
