// The benchmark's own look at the database: counting what was stored against what was acknowledged, and emptying the
// tables between a scenario's phases. Raw SQL on purpose: the check must not trust the repositories it measures.
import type pg from 'pg';

export interface StoredCount {
  acked: number;
  stored: number;
  /** Acknowledged but not in telemetry. */
  lost: number;
  /** Rows beyond the first for the same (vehicle_id, seq). */
  duplicates: number;
}

export async function countAgainstAcks(pool: pg.Pool, ackedRanges: Record<string, Array<[number, number]>>): Promise<StoredCount> {
  const { rows } = await pool.query<{ vehicle_id: string; seqs: string[] | number[] }>(
    'SELECT vehicle_id, array_agg(seq ORDER BY seq) AS seqs FROM telemetry GROUP BY vehicle_id',
  );
  const byVehicle = new Map<string, number[]>();
  for (const r of rows) byVehicle.set(r.vehicle_id, (r.seqs as Array<string | number>).map(Number));
  let stored = 0;
  let duplicates = 0;
  let acked = 0;
  let lost = 0;
  for (const seqs of byVehicle.values()) {
    stored += seqs.length;
    for (let i = 1; i < seqs.length; i++) if (seqs[i] === seqs[i - 1]) duplicates++;
  }
  for (const [id, ranges] of Object.entries(ackedRanges)) {
    const have = new Set(byVehicle.get(id) ?? []);
    for (const [from, to] of ranges) {
      for (let s = from; s <= to; s++) {
        acked++;
        if (!have.has(s)) lost++;
      }
    }
  }
  return { acked, stored, lost, duplicates };
}

export async function truncateIngestTables(pool: pg.Pool): Promise<void> {
  await pool.query('TRUNCATE telemetry, vehicle_state, energy_hourly, dead_letters');
}

export async function telemetryRowCount(pool: pg.Pool): Promise<number> {
  const { rows } = await pool.query<{ n: number }>('SELECT count(*)::int AS n FROM telemetry');
  return rows[0]?.n ?? 0;
}
