import { describeFaultScenario } from './support/faults-scenario.js';

describeFaultScenario('nuki', 'test/reliability/faults.nuki.test.ts');
