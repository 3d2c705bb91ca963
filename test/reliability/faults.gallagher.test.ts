import { describeFaultScenario } from './support/faults-scenario.js';

// On PostgreSQL (the other two run on SQLite): provider behaviour under faults does not depend on the
// store, but the engine's queue, claims and retries do.
describeFaultScenario('gallagher', 'test/reliability/faults.gallagher.test.ts', 'postgres');
