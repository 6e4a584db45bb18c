// Initial schema: registry (tenants, api_keys, vehicles, service_accounts), time series (telemetry, events),
// derived state (vehicle_state, energy_hourly), dead_letters, and specfleet_meta recording the storage backend.
//
// Frozen in time: imports nothing from the app, takes Kysely<any>, raw SQL only.
// TimescaleDB is used when the extension is available AND loadable (it must be in shared_preload_libraries);
// otherwise the same tables stay plain PostgreSQL tables. The SQL surface (tables, columns, keys) is identical.
import { type Kysely, sql } from 'kysely';

/*
 * Chunk interval for telemetry: 6 hours.
 * Target load: 10 000 vehicles × 1 sample / 10 s = 1 000 samples/s = 86.4 M rows/day. A sweeper-like bev row
 * (position, battery, energy and body blocks, a small body_signals object) measured ~265 bytes of heap per row
 * (tuple header, line pointer, page fill; the column order of the table avoids alignment padding) plus ~80 bytes in the
 * (vehicle_id, ts, seq) primary key (filled in time order across vehicles, so its pages split half full):
 * ~350 bytes/row, ~30 GB/day, ~7.5 GB per 6 h chunk. Timescale's guideline is that the most recent chunk and its
 * indexes fit in ~25 % of memory: 7.5 GB suits a 32 GB database server at full scale, and smaller fleets simply
 * get smaller chunks.
 * A day-long chunk (30 GB) would need 120 GB of RAM; 1 h chunks would mean 8 760 chunks a year for the planner to
 * exclude on long range queries. Retention drops whole chunks, so 6 h is also the retention granularity.
 * Operators with other fleet sizes change it with set_chunk_time_interval('telemetry', ...) (affects new chunks).
 *
 * Events are a few per vehicle per hour at most: 7-day chunks keep them few and still small.
 */
const TELEMETRY_CHUNK_INTERVAL = '6 hours';
const EVENTS_CHUNK_INTERVAL = '7 days';

type Backend = { backend: 'timescaledb' | 'postgres'; note: string; version: string | null };

async function enableTimescale(db: Kysely<any>): Promise<Backend> {
  const available = await sql<{ default_version: string }>`
    SELECT default_version FROM pg_available_extensions WHERE name = 'timescaledb'`.execute(db);
  if (available.rows.length === 0) {
    return { backend: 'postgres', note: 'no timescaledb extension', version: null };
  }
  // Installed but not preloaded, CREATE EXTENSION fails ("extension "timescaledb" must be preloaded"); inside the
  // migration's transaction a savepoint keeps that failure from aborting the whole migration.
  const inTransaction = db.isTransaction;
  if (inTransaction) await sql`SAVEPOINT specfleet_timescaledb`.execute(db);
  try {
    await sql`CREATE EXTENSION IF NOT EXISTS timescaledb`.execute(db);
    if (inTransaction) await sql`RELEASE SAVEPOINT specfleet_timescaledb`.execute(db);
  } catch (err) {
    if (inTransaction) await sql`ROLLBACK TO SAVEPOINT specfleet_timescaledb`.execute(db);
    const reason = err instanceof Error ? err.message : String(err);
    return { backend: 'postgres', note: `timescaledb extension available but not loadable (${reason})`, version: null };
  }
  const installed = await sql<{ extversion: string }>`
    SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'`.execute(db);
  const version = installed.rows[0]?.extversion ?? null;
  return { backend: 'timescaledb', note: 'telemetry and events are hypertables', version };
}

export async function up(db: Kysely<any>): Promise<void> {
  const backend = await enableTimescale(db);

  await sql`
    CREATE TABLE specfleet_meta (
      key        text PRIMARY KEY,
      value      text NOT NULL,
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE tenants (
      id         text PRIMARY KEY,
      name       text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE api_keys (
      id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      tenant_id  text NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
      role       text NOT NULL CHECK (role IN ('operator', 'admin')),
      digest     bytea NOT NULL UNIQUE CHECK (octet_length(digest) = 32), -- sha256 of the key
      prefix     text NOT NULL,                                           -- first chars, to recognise a key in lists
      name       text NOT NULL DEFAULT '',
      created_at timestamptz NOT NULL DEFAULT now(),
      revoked_at timestamptz
    );
    CREATE INDEX api_keys_tenant_id_idx ON api_keys (tenant_id);

    CREATE TABLE vehicles (
      id                     text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'), -- = MQTT username / client id
      tenant_id              text NOT NULL REFERENCES tenants (id),
      type                   text NOT NULL,
      body_type              text NOT NULL DEFAULT 'none'
                             CHECK (body_type IN ('sweeper','compactor','sprinkler','reefer','pump','ladder','medical','tanker','none')),
      powertrain             text NOT NULL CHECK (powertrain IN ('bev','fcev','ice','phev')),
      vin                    text,
      model                  text,
      battery_kwh            double precision,
      h2_capacity_kg         double precision,
      fuel_capacity_l        double precision,
      report_interval_s      integer NOT NULL DEFAULT 10 CHECK (report_interval_s > 0),
      secret_digest          bytea CHECK (octet_length(secret_digest) = 32), -- sha256 of a 256-bit random secret
      credentials_rotated_at timestamptz,
      created_at             timestamptz NOT NULL DEFAULT now(),
      -- target of vehicle_state's (vehicle_id, tenant_id) foreign key, which keeps the denormalised tenant in step
      CONSTRAINT vehicles_id_tenant_id_key UNIQUE (id, tenant_id)
    );
    CREATE INDEX vehicles_tenant_id_idx ON vehicles (tenant_id, id);

    CREATE TABLE service_accounts (
      id            text PRIMARY KEY,
      secret_digest bytea NOT NULL CHECK (octet_length(secret_digest) = 32),
      created_at    timestamptz NOT NULL DEFAULT now(),
      disabled_at   timestamptz
    );

    -- Column order: 8-byte, 4-byte, 1-byte, then variable-length columns, so no alignment padding (see telemetry.table.ts).
    -- No foreign key to vehicles and no CHECKs: one bad row must not fail a batch, and deleting a vehicle must not
    -- cascade into billions of rows (retention removes them).
    CREATE TABLE telemetry (
      ts                 timestamptz      NOT NULL,
      seq                bigint           NOT NULL,
      received_at        timestamptz      NOT NULL DEFAULT now(),
      lat                double precision,
      lon                double precision,
      odometer_km        double precision,
      traction_kwh       double precision,
      body_kwh           double precision,
      regen_kwh          double precision,
      charged_kwh        double precision,
      h2_used_kg         double precision,
      fuel_used_l        double precision,
      engine_hours       double precision,
      body_hours         double precision,
      alt_m              real,
      heading_deg        real,
      speed_kmh          real,
      soc_pct            real,
      battery_voltage_v  real,
      battery_current_a  real,
      battery_temp_max_c real,
      battery_temp_min_c real,
      cell_v_max         real,
      cell_v_min         real,
      soh_pct            real,
      h2_mass_kg         real,
      h2_pressure_mpa    real,
      fc_power_kw        real,
      fc_temp_c          real,
      fuel_level_pct     real,
      fuel_rate_lph      real,
      engine_rpm         real,
      coolant_c          real,
      body_power_kw      real,
      body_active        boolean,
      vehicle_id         text             NOT NULL,
      state              text,
      body_type          text,
      body_signals       jsonb,
      dtc                text[],
      -- The idempotency key (SPEC §4.2); also serves "vehicle X between t1 and t2" in either time direction.
      CONSTRAINT telemetry_pkey PRIMARY KEY (vehicle_id, ts, seq)
    );

    CREATE TABLE events (
      ts          timestamptz NOT NULL,
      seq         bigint      NOT NULL,
      received_at timestamptz NOT NULL DEFAULT now(),
      level       smallint,
      active      boolean,
      vehicle_id  text        NOT NULL,
      kind        text        NOT NULL,
      code        text,
      message     text,
      data        jsonb,
      -- Idempotency key; the same index answers (vehicle_id, ts DESC) by scanning backwards, so a separate
      -- (vehicle_id, ts DESC) index would only double the write cost.
      CONSTRAINT events_pkey PRIMARY KEY (vehicle_id, ts, seq)
    );

    CREATE TABLE vehicle_state (
      vehicle_id         text PRIMARY KEY,
      tenant_id          text NOT NULL,
      last_ts            timestamptz,
      last_seq           bigint,
      last_received_at   timestamptz,
      connected          boolean NOT NULL DEFAULT false,
      connected_at       timestamptz,
      disconnected_at    timestamptz,
      fw                 text,
      state              text,
      lat                double precision,
      lon                double precision,
      speed_kmh          double precision,
      heading_deg        double precision,
      odometer_km        double precision,
      soc_pct            double precision,
      h2_mass_kg         double precision,
      fuel_level_pct     double precision,
      battery_temp_max_c double precision,
      battery_temp_min_c double precision,
      cell_v_max         double precision,
      cell_v_min         double precision,
      soh_pct            double precision,
      body_active        boolean,
      body_power_kw      double precision,
      -- The cumulative counters of the latest sample (names as in telemetry): in-order batches chain their energy
      -- increases from here without reading telemetry back.
      traction_kwh       double precision,
      body_kwh           double precision,
      regen_kwh          double precision,
      charged_kwh        double precision,
      h2_used_kg         double precision,
      fuel_used_l        double precision,
      engine_hours       double precision,
      body_hours         double precision,
      active_alarms      jsonb    NOT NULL DEFAULT '{}'::jsonb,  -- code → {level, since, message}
      alarm_max_level    smallint NOT NULL DEFAULT 0,
      active_dtcs        text[]   NOT NULL DEFAULT '{}',
      alarms_changed_at  timestamptz,                           -- last change of active_alarms / active_dtcs
      updated_at         timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT vehicle_state_vehicle_fkey FOREIGN KEY (vehicle_id, tenant_id)
        REFERENCES vehicles (id, tenant_id) ON DELETE CASCADE ON UPDATE CASCADE
    );
    CREATE INDEX vehicle_state_tenant_id_idx ON vehicle_state (tenant_id);

    -- No foreign key, as for telemetry: a derived table written in batches by ingestion.
    CREATE TABLE energy_hourly (
      vehicle_id   text        NOT NULL,
      hour         timestamptz NOT NULL,
      distance_km  double precision NOT NULL DEFAULT 0,
      traction_kwh double precision NOT NULL DEFAULT 0,
      body_kwh     double precision NOT NULL DEFAULT 0,
      regen_kwh    double precision NOT NULL DEFAULT 0,
      charged_kwh  double precision NOT NULL DEFAULT 0,
      h2_kg        double precision NOT NULL DEFAULT 0,
      fuel_l       double precision NOT NULL DEFAULT 0,
      engine_hours double precision NOT NULL DEFAULT 0,
      body_hours   double precision NOT NULL DEFAULT 0,
      samples      integer     NOT NULL DEFAULT 0,
      updated_at   timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT energy_hourly_pkey PRIMARY KEY (vehicle_id, hour)
    );
    -- GET /energy?group_by=type|day scans an hour range across the fleet.
    CREATE INDEX energy_hourly_hour_idx ON energy_hourly (hour);

    CREATE TABLE dead_letters (
      id          bigserial PRIMARY KEY,
      received_at timestamptz NOT NULL DEFAULT now(),
      topic       text NOT NULL,
      vehicle_id  text,
      reason      text NOT NULL,
      detail      text,
      raw         bytea,            -- truncated payload
      raw_size    integer NOT NULL  -- size of the whole payload
    );
    CREATE INDEX dead_letters_received_at_idx ON dead_letters (received_at);
    CREATE INDEX dead_letters_reason_idx ON dead_letters (reason, received_at);
  `.execute(db);

  if (backend.backend === 'timescaledb') {
    // Apache-2 edition features only: hypertables and drop_chunks. No compression, continuous aggregates or policies.
    // create_default_indexes => false: the primary keys already lead with vehicle_id and contain ts, and chunk
    // exclusion handles time ranges; a default (ts DESC) index would cost a third index write per row.
    // The pre-2.13 signature (table, column, chunk_time_interval => …) works across all of 2.x.
    await sql`SELECT create_hypertable('telemetry', 'ts',
      chunk_time_interval => ${sql.raw(`INTERVAL '${TELEMETRY_CHUNK_INTERVAL}'`)}, create_default_indexes => false)`.execute(db);
    await sql`SELECT create_hypertable('events', 'ts',
      chunk_time_interval => ${sql.raw(`INTERVAL '${EVENTS_CHUNK_INTERVAL}'`)}, create_default_indexes => false)`.execute(db);
  } else {
    // Plain PostgreSQL: retention deletes by ts in batches; BRIN indexes find old rows in (mostly) append-ordered
    // tables for a few pages of index instead of a full scan or a B-tree as large as the PK.
    await sql`
      CREATE INDEX telemetry_ts_brin_idx ON telemetry USING brin (ts);
      CREATE INDEX events_ts_brin_idx ON events USING brin (ts);
    `.execute(db);
  }

  await sql`
    INSERT INTO specfleet_meta (key, value) VALUES
      ('backend', ${backend.backend}),
      ('backend_note', ${backend.note}),
      ('telemetry_chunk_interval', ${backend.backend === 'timescaledb' ? TELEMETRY_CHUNK_INTERVAL : 'n/a'})
  `.execute(db);
  if (backend.version !== null) {
    await sql`INSERT INTO specfleet_meta (key, value) VALUES ('timescaledb_version_at_migration', ${backend.version})`.execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  // The timescaledb extension stays: it is database-level infrastructure that other schemas may use, and
  // DROP EXTENSION would cascade into them. Up again simply finds it installed.
  await sql`
    DROP TABLE IF EXISTS dead_letters;
    DROP TABLE IF EXISTS energy_hourly;
    DROP TABLE IF EXISTS vehicle_state;
    DROP TABLE IF EXISTS events;
    DROP TABLE IF EXISTS telemetry;
    DROP TABLE IF EXISTS service_accounts;
    DROP TABLE IF EXISTS vehicles;
    DROP TABLE IF EXISTS api_keys;
    DROP TABLE IF EXISTS tenants;
    DROP TABLE IF EXISTS specfleet_meta;
  `.execute(db);
}
