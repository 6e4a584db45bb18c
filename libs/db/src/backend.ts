// Which storage backend this database is on (TimescaleDB hypertables or plain PostgreSQL), as the migrations recorded it.
import { type Kysely, sql } from 'kysely';

export type StorageBackend = 'timescaledb' | 'postgres';

export interface BackendInfo {
  backend: StorageBackend;
  /** e.g. "15.10" (the first word of server_version). */
  serverVersion: string;
  /** Installed extension version, when the timescaledb extension is installed in this database. */
  timescaledbVersion?: string;
  /** Why: "telemetry and events are hypertables", "no timescaledb extension", or why the extension could not load. */
  note: string;
}

/**
 * Reads the backend recorded in specfleet_meta by the initial migration (the tables are hypertables or not from
 * then on), so retention can drop chunks on TimescaleDB and batch-delete on PostgreSQL. Before the migrations ran,
 * it reports what the server offers (postgres, unless the extension is already installed).
 */
export async function detectBackend(db: Kysely<any>): Promise<BackendInfo> {
  const { rows } = await sql<{ server_version: string; ts_version: string | null; meta: string | null }>`
    SELECT current_setting('server_version') AS server_version,
           (SELECT extversion FROM pg_extension WHERE extname = 'timescaledb') AS ts_version,
           to_regclass('specfleet_meta')::text AS meta`.execute(db);
  const row = rows[0];
  if (!row) throw new Error('detectBackend: no answer from the server');
  const serverVersion = row.server_version.split(' ')[0] ?? row.server_version;

  let recorded: StorageBackend | undefined;
  let note: string | undefined;
  if (row.meta !== null) {
    const meta = await sql<{ key: string; value: string }>`
      SELECT key, value FROM specfleet_meta WHERE key IN ('backend', 'backend_note')`.execute(db);
    for (const m of meta.rows) {
      if (m.key === 'backend' && (m.value === 'timescaledb' || m.value === 'postgres')) recorded = m.value;
      if (m.key === 'backend_note') note = m.value;
    }
  }
  const backend = recorded ?? (row.ts_version !== null ? 'timescaledb' : 'postgres');
  return {
    backend,
    serverVersion,
    ...(row.ts_version !== null ? { timescaledbVersion: row.ts_version } : {}),
    note: note ?? (backend === 'timescaledb' ? 'telemetry and events are hypertables' : 'no timescaledb extension'),
  };
}

/** The one-line description the migrator logs, e.g. "TimescaleDB 2.19.3 on PostgreSQL 17.6 — telemetry and events are hypertables". */
export function describeBackend(info: BackendInfo): string {
  return info.backend === 'timescaledb'
    ? `TimescaleDB ${info.timescaledbVersion ?? '?'} on PostgreSQL ${info.serverVersion} — ${info.note}`
    : `plain PostgreSQL ${info.serverVersion} — ${info.note}`;
}
