// The folders import each other in no loop (issue 25): read from the import lines of the
// sources themselves, so that a new import running back up fails the build here, naming
// the files that close the loop.
import { strict as assert } from 'node:assert';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { ROOT, SOURCES, sourceFiles } from '../support/sources';

/** The unit a file belongs to: its folder (firmware/dicom as one library), or itself at the top. */
function unitOf(file: string): string {
  const parts = path.relative(ROOT, file).split(path.sep);
  if (parts[0] !== 'firmware') return parts[0]!;
  if (parts.length === 2) return `firmware/${parts[1]!.replace(/\.ts$/, '')}`;
  return `firmware/${parts[1]}`;
}

function resolve(from: string, spec: string): string {
  const target = path.resolve(path.dirname(from), spec);
  if (existsSync(`${target}.ts`)) return `${target}.ts`;
  return path.join(target, 'index.ts');
}

/** unit -> unit -> the files whose imports make that edge. */
function importGraph(): Map<string, Map<string, string[]>> {
  const graph = new Map<string, Map<string, string[]>>();
  for (const file of SOURCES.flatMap((d) => sourceFiles(path.join(ROOT, d)))) {
    for (const m of readFileSync(file, 'utf8').matchAll(/from '(\.[^']+)'/g)) {
      const [from, to] = [unitOf(file), unitOf(resolve(file, m[1]!))];
      if (from === to) continue;
      const edges = graph.get(from) ?? new Map<string, string[]>();
      edges.set(to, [...(edges.get(to) ?? []), path.relative(ROOT, file)]);
      graph.set(from, edges);
    }
  }
  return graph;
}

/** A loop through `start`, as the units in order, or undefined. */
function loopFrom(graph: Map<string, Map<string, string[]>>, start: string): string[] | undefined {
  const seen = new Set<string>();
  const walk = (unit: string, trail: string[]): string[] | undefined => {
    for (const next of graph.get(unit)?.keys() ?? []) {
      if (next === start) return [...trail, next];
      if (seen.has(next)) continue;
      seen.add(next);
      const found = walk(next, [...trail, next]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, [start]);
}

describe('layers: the folders import each other in no loop', () => {
  it('sees the imports (the check is not vacuous)', () => {
    const graph = importGraph();
    assert.ok(graph.get('firmware/appliance')?.has('storage'));
    assert.ok(graph.get('firmware/services')?.has('firmware/dicom'));
  });

  it('no folder imports, through others, from a folder that imports it', () => {
    const graph = importGraph();
    const loops = [...graph.keys()].flatMap((unit) => {
      const loop = loopFrom(graph, unit);
      if (!loop) return [];
      const files = loop
        .slice(1)
        .map((to, i) => `${loop[i]} -> ${to} (${graph.get(loop[i]!)!.get(to)![0]})`);
      return [files.join(', ')];
    });
    assert.deepEqual(loops, []);
  });

  it('the DICOM library imports nothing of the appliance', () => {
    const graph = importGraph();
    assert.deepEqual([...(graph.get('firmware/dicom')?.keys() ?? [])], []);
  });
});
