// Summarises a V8 .cpuprofile (from node --cpu-prof or --profile): self time per function and per package, biggest
// first; or a .heapprofile (from --heap-profile): bytes allocated per function and per package.
//   node bench/src/profile-summary.ts <file.cpuprofile|file.heapprofile> [top]
import { readFileSync } from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}
const [file, topArg] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: profile-summary.ts <file.cpuprofile> [top]\n');
  process.exit(64);
}
interface HeapNode {
  id: number;
  callFrame: Node['callFrame'];
  selfSize: number;
  children: HeapNode[];
}
const raw = JSON.parse(readFileSync(file, 'utf8')) as { nodes: Node[]; samples: number[]; timeDeltas: number[] } | { head: HeapNode };
const heap = 'head' in raw;
// One shape for both: a node list and its self weight (µs of CPU, or bytes allocated).
const profile = { nodes: [] as Node[] };
const selfUs = new Map<number, number>();
if ('head' in raw) {
  const stack = [raw.head];
  while (stack.length > 0) {
    const n = stack.pop()!;
    profile.nodes.push({ id: n.id, callFrame: n.callFrame });
    selfUs.set(n.id, n.selfSize);
    stack.push(...n.children);
  }
} else {
  profile.nodes = raw.nodes;
  raw.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (raw.timeDeltas[i] ?? 0)));
}
const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
const byFn = new Map<string, number>();
const byPkg = new Map<string, number>();
for (const n of profile.nodes) {
  const us = selfUs.get(n.id) ?? 0;
  const url = n.callFrame.url.replace(/^file:\/\/\/work\/main\//, '');
  const fn = `${n.callFrame.functionName || '(anonymous)'} ${url ? `${url}:${n.callFrame.lineNumber + 1}` : ''}`.trim();
  byFn.set(fn, (byFn.get(fn) ?? 0) + us);
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.startsWith('node:') ? 'node:internal' : url ? url.split('/').slice(0, 2).join('/') : n.callFrame.functionName);
  byPkg.set(pkg, (byPkg.get(pkg) ?? 0) + us);
}
const top = Number(topArg ?? 30);
const show = (title: string, m: Map<string, number>): void => {
  process.stdout.write(`\n${title}\n`);
  for (const [k, us] of [...m].sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}\n`);
};
process.stdout.write(heap ? `total allocated ${(total / 1e6).toFixed(0)} MB (sampled)\n` : `total sampled ${(total / 1e6).toFixed(1)} s\n`);
show(heap ? 'allocated by package/area' : 'self time by package/area', byPkg);
show(heap ? 'allocated by function' : 'self time by function', byFn);
