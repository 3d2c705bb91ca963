/**
 * The layering ARCHITECTURE.md describes, checked on the source: no import cycles among src/ modules
 * (type-only imports included), and nothing under src/ imports the HTTP layer (src/api) or the
 * console (src/web) but those two, src/app.ts and the CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const src = path.join(root, 'src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sourceFiles(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : []));
}

/** Module → the src/ modules it imports (relative imports, `.js` resolved to the `.ts` file). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(src)) {
    const text = fs.readFileSync(file, 'utf8');
    const deps = [...text.matchAll(/(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/g)]
      .map((m) => path.resolve(path.dirname(file), m[1]!).replace(/\.js$/, '.ts'))
      .filter((p) => fs.existsSync(p));
    graph.set(path.relative(root, file), deps.map((d) => path.relative(root, d)));
  }
  return graph;
}

/** Strongly connected components with more than one module (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

const mayUseHttpLayers = (file: string) => /^src\/(api|web|cli)\//.test(file) || file === 'src/app.ts';

describe('architecture', () => {
  const graph = importGraph();

  it('has no import cycles among src/ modules', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('nothing but src/api, src/web, src/app.ts and the CLI imports src/api or src/web', () => {
    const wrong = [...graph].flatMap(([file, deps]) => (mayUseHttpLayers(file) ? [] : deps.filter((d) => /^src\/(api|web)\//.test(d)).map((d) => `${file} → ${d}`)));
    expect(wrong).toEqual([]);
  });

  it('the check itself sees a cycle and a wrong-way import when there is one', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['a']], ['c', []]]))).toEqual([['a', 'b']]);
    expect(graph.get('src/sources/ingest.ts')).toContain('src/commands/people.ts');
  });
});
