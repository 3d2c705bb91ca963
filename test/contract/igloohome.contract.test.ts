import { describeProviderContract } from './suite.js';
import { igloohomeFixture } from './igloohome.js';

describeProviderContract(igloohomeFixture);
