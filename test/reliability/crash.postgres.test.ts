import { describeCrashScenario } from './support/crash-scenario.js';

describeCrashScenario('postgres', 'test/reliability/crash.postgres.test.ts');
