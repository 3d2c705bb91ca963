/**
 * `lockstep explain`: the explainer (src/engine/explain) in the terminal, for the operator on the phone
 * with a guest at the door. Prints the verdict and each link of the chain; `--json` prints the same
 * document as GET /v1/access/explain. Exit code 0 when the person can enter, 2 when not.
 */
import type { App } from '../app.js';
import { explainAccess, ExplainInputError, type ExplainQuery } from '../engine/explain/index.js';
import { parseInstant } from '../domain/time.js';

export interface ExplainCliOptions {
  person: string;
  space?: string;
  target?: string;
  integration?: string;
  at?: string;
  json?: boolean;
}

export async function printExplanation(app: App, opts: ExplainCliOptions, out: (line: string) => void = console.log): Promise<number> {
  if (!opts.space === !opts.target) throw new Error('give exactly one of --space <spaceId> or --target <targetRef>');
  const at = opts.at ? parseInstant(opts.at) : Date.now();
  const db = app.store.db;
  const person = await db.selectFrom('people').select(['id', 'organisationId']).where('id', '=', opts.person).executeTakeFirst();
  if (!person) throw new Error(`person ${opts.person} does not exist; list people with GET /v1/people`);
  const query: ExplainQuery = { organisationId: person.organisationId, personId: person.id, spaceId: opts.space, targetRef: opts.target, integrationId: opts.integration, at };
  let answer;
  try {
    answer = await explainAccess({ db, secrets: app.secrets, adapterFor: (i) => app.engine.adapterFor(i), now: Date.now() }, query);
  } catch (err) {
    if (err instanceof ExplainInputError) throw new Error(err.message);
    throw err;
  }
  if (opts.json) {
    out(JSON.stringify(answer, null, 2));
    return answer.verdict.canEnter ? 0 : 2;
  }
  out(`${answer.person.name} ${answer.verdict.text}`);
  out(`  at ${answer.at} (times in ${answer.timeZone})`);
  for (const t of answer.targets) {
    out(`  ${t.canEnter ? '✓' : '✗'} ${t.targetName} on ${t.integrationName} (${t.provider})`);
    for (const c of t.chain) out(`      ${c.ok ? '✓' : '✗'} ${c.link.padEnd(12)} ${c.says}`);
  }
  return answer.verdict.canEnter ? 0 : 2;
}
