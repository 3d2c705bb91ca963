import { describeCrashScenario } from './support/crash-scenario.js';

describeCrashScenario('sqlite', 'test/reliability/crash.sqlite.test.ts');
