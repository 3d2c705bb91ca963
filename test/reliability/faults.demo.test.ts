import { describeFaultScenario } from './support/faults-scenario.js';

describeFaultScenario('demo', 'test/reliability/faults.demo.test.ts');
