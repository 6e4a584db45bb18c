// Runs the TypeScript sources directly: SWC compiles each file on load (decorators with metadata, which Nest's
// dependency injection reads) and resolves the @fleet/* path aliases of tsconfig.json.
import { register } from 'node:module';
register('@swc-node/register/esm', import.meta.url);
