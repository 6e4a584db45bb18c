// The "naive pipeline" baseline of the ingest scenario: how telemetry backends are commonly glued together — a plain
// aedes broker that acknowledges a QoS 1 PUBLISH on receipt, and a handler that writes every message with its own
// INSERT (autocommit) through a pg pool. Same contract decoding and the same row mapping as specfleet, so the
// difference measured is the write path (and the guarantee: an acknowledged message here may still be in memory).
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Aedes } from 'aedes';
import pg from 'pg';
import { decodeTelemetry, DEFAULT_DECODE_LIMITS, parseTopic } from '@fleet/contracts';
import { TELEMETRY_COLUMNS } from '@fleet/db';
import { toTelemetryRow } from '../../../apps/ingestion/src/pipeline/rows.js';

// One row per statement is the point of this baseline, so its SQL lives here rather than in a specfleet repository.
const INSERT = `INSERT INTO telemetry (${TELEMETRY_COLUMNS.map((c) => c.name).join(', ')}) VALUES (${TELEMETRY_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')}) ON CONFLICT DO NOTHING`;

export interface NaiveBroker {
  port: number;
  /** Messages acknowledged (PUBACK sent) and rows committed so far. */
  readonly stats: { received: number; inserted: number; failed: number; pending: number };
  stop(): Promise<void>;
}

export async function startNaiveBroker(databaseUrl: string, poolSize = 10): Promise<NaiveBroker> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: poolSize, application_name: 'specfleet-bench-naive' });
  pool.on('error', () => undefined);
  const stats = { received: 0, inserted: 0, failed: 0, pending: 0 };
  // The messages acknowledged but not yet written. A queue with a head index (not pg-pool's own wait list, whose
  // Array.shift() is O(n) at half a million entries and would measure the queue instead of the INSERTs).
  let queue: Array<{ vehicleId: string; payload: Buffer; receivedAt: Date }> = [];
  let head = 0;
  let wake: (() => void) | undefined;
  let closing = false;
  const worker = async (): Promise<void> => {
    const client = await pool.connect();
    try {
      for (;;) {
        if (head >= queue.length) {
          if (closing) return;
          if (head > 0) {
            queue = [];
            head = 0;
          }
          await new Promise<void>((resolve) => {
            wake = resolve;
            setTimeout(resolve, 50);
          });
          continue;
        }
        const m = queue[head]!;
        queue[head++] = undefined as never;
        const decoded = decodeTelemetry(m.payload, { ...DEFAULT_DECODE_LIMITS, nowMs: Date.now() });
        for (const a of decoded.accepted) {
          const row = toTelemetryRow(m.vehicleId, a.sample, a.tsMs, m.receivedAt) as unknown as Record<string, unknown>;
          const values = TELEMETRY_COLUMNS.map((c) => (c.kind === 'jsonb' && row[c.name] != null ? JSON.stringify(row[c.name]) : (row[c.name] ?? null)));
          try {
            await client.query(INSERT, values);
            stats.inserted++;
          } catch {
            stats.failed++;
          }
        }
        stats.pending--;
      }
    } finally {
      client.release();
    }
  };
  const workers = Array.from({ length: poolSize }, worker);
  const aedes = await Aedes.createBroker();
  // 'publish' fires after aedes has written the PUBACK: the ack does not wait for the database.
  aedes.on('publish', (packet, client) => {
    if (!client) return;
    const parsed = parseTopic(packet.topic);
    if (parsed?.channel !== 'telemetry') return;
    stats.received++;
    stats.pending++;
    queue.push({ vehicleId: parsed.vehicleId, payload: packet.payload as Buffer, receivedAt: new Date() });
    wake?.();
  });
  const server: Server = createServer({ noDelay: true }, (socket) => aedes.handle(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    stats,
    async stop() {
      await new Promise<void>((resolve) => aedes.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
      closing = true;
      queue = [];
      head = 0;
      await Promise.allSettled(workers);
      await pool.end();
    },
  };
}
