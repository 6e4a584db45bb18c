// Compiles the TypeScript of the runtime processes (apps, libs, simulators, bench) to plain ES modules in dist/, with
// the same SWC settings scripts/register.mjs applies on the fly (decorators with metadata, which Nest's dependency
// injection reads), and the @fleet/* aliases of tsconfig.json rewritten to relative paths.
// Why: running through the on-the-fly loader keeps the SWC native compiler resident in every process — about 120 MB of
// RSS before the first line of specfleet runs (measured: 43 MB for an empty `node` script, 164 MB with the loader).
// `npm start` and the benchmark's measured processes run the compiled output; tests and `npm run sim` keep the loader.
// Incremental: an output carries its source's mtime and is compiled again when the two differ (edited, checked out or
// restored from elsewhere), and everything is when this script or tsconfig.json changes. Well under a second.
//   node scripts/build.mjs [--quiet]
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { transform } from '@swc/core';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'dist');
const quiet = process.argv.includes('--quiet');
const SOURCES = ['apps', 'libs', 'simulators/src', 'bench/src'];
const SKIP = /(\.spec|\.test|\.d)\.ts$/;
const tsconfig = JSON.parse(readFileSync(join(root, 'tsconfig.json'), 'utf8')).compilerOptions;
/** '@fleet/db' → 'libs/db/src/index.ts' (from tsconfig paths, so the two cannot disagree). */
const aliases = new Map(Object.entries(tsconfig.paths).map(([alias, [target]]) => [alias, target.replace(/^\.\//, '')]));

function* sources(dir) {
  let entries;
  try {
    entries = readdirSync(join(root, dir), { withFileTypes: true });
  } catch {
    return; // e.g. bench/ is not copied into the Docker image
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'node_modules' && entry.name !== 'results') yield* sources(path);
    } else if (entry.name.endsWith('.ts') && !SKIP.test(entry.name)) {
      yield path;
    }
  }
}

/** The import specifier, relative to `from` (a source path), of the compiled alias target. */
function aliasSpecifier(from, target) {
  const rel = relative(dirname(from), target.replace(/\.ts$/, '.js')).split(sep).join('/');
  return rel.startsWith('.') ? rel : `./${rel}`;
}

const options = (filename) => ({
  filename,
  swcrc: false,
  sourceMaps: false,
  module: { type: 'es6' },
  jsc: {
    target: 'es2022',
    keepClassNames: true,
    parser: { syntax: 'typescript', decorators: true, dynamicImport: true },
    transform: {
      legacyDecorator: tsconfig.experimentalDecorators === true,
      decoratorMetadata: tsconfig.emitDecoratorMetadata === true,
      useDefineForClassFields: tsconfig.useDefineForClassFields === true,
    },
  },
});

// Everything is compiled again when the compiler settings change (this file, tsconfig.json).
const stampFile = join(out, '.build-stamp');
const stamp = createHash('sha256').update(readFileSync(fileURLToPath(import.meta.url))).update(readFileSync(join(root, 'tsconfig.json'))).digest('hex');
let previousStamp = '';
try {
  previousStamp = readFileSync(stampFile, 'utf8');
} catch {
  // first build
}
const all = previousStamp !== stamp;

let compiled = 0;
let total = 0;
const started = Date.now();
await Promise.all(
  SOURCES.flatMap((dir) => [...sources(dir)]).map(async (path) => {
    total++;
    const target = join(out, path.replace(/\.ts$/, '.js'));
    const source = statSync(join(root, path));
    let fresh = false;
    try {
      fresh = !all && Math.abs(statSync(target).mtimeMs - source.mtimeMs) < 1; // utimes keeps about a microsecond
    } catch {
      // not built yet
    }
    if (fresh) return;
    const { code } = await transform(readFileSync(join(root, path), 'utf8'), options(path));
    const rewritten = code.replace(/(["'])(@fleet\/[a-z-]+)\1/g, (whole, quote, alias) =>
      aliases.has(alias) ? `${quote}${aliasSpecifier(path, aliases.get(alias))}${quote}` : whole,
    );
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, rewritten);
    utimesSync(target, source.atimeMs / 1000, source.mtimeMs / 1000);
    compiled++;
  }),
);
mkdirSync(out, { recursive: true });
writeFileSync(stampFile, stamp);
if (!quiet || compiled > 0) {
  process.stderr.write(`build: ${compiled} of ${total} files compiled to dist/ in ${Date.now() - started} ms\n`);
}
