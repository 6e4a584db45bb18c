// The broker's side effects, as small interfaces wired to the registry (libs/db), the ingestion pipeline and
// vehicle_state by whoever assembles the process; tests wire them to in-memory doubles.

/**
 * Looks up the credentials of MQTT principals. Digests are SHA-256 of the (256-bit random) secret. `fresh` asks a
 * caching store to answer from the registry itself (a store without a cache always does).
 */
export interface CredentialStore {
  findVehicle(id: string, opts?: LookupOptions): Promise<{ tenantId: string; secretDigest: Buffer } | undefined>;
  findServiceAccount(id: string, opts?: LookupOptions): Promise<{ secretDigest: Buffer } | undefined>;
}

export interface LookupOptions {
  fresh?: boolean;
}

/**
 * The channels a vehicle publishes that must be stored before they are acknowledged. `status` too: its retained
 * status is QoS 1 like the rest (SPEC §3, §4.1). Only its Last Will, which nobody acknowledges, goes to
 * ConnectivitySink.status.
 */
export type IngestChannel = 'telemetry' | 'events' | 'status' | 'cmd/ack';

export interface IngestMessage {
  vehicleId: string;
  channel: IngestChannel;
  topic: string;
  payload: Buffer;
  receivedAt: Date;
  /**
   * Set when the PUBLISH was larger than the broker's packet limit: its size in bytes; `payload` then holds only the
   * first bytes of the original (see PacketSizeGuard). The sink dead-letters it (PAYLOAD_TOO_LARGE).
   */
  oversizeBytes?: number;
}

/**
 * Durable hand-off to ingestion. `ingest` resolves once the message is committed (or dead-lettered) durably and
 * rejects when it could not be (database down): the broker acknowledges a QoS 1 PUBLISH only after it resolves.
 */
export interface IngestSink {
  ingest(message: IngestMessage): Promise<void>;
}

export type DisconnectReason = 'clean' | 'will' | 'error' | 'timeout';

/** Connectivity facts for vehicle_state. Fire-and-forget: the broker never waits on it and ignores its errors. */
export interface ConnectivitySink {
  connected(vehicleId: string, at: Date): void;
  disconnected(vehicleId: string, at: Date, reason: DisconnectReason): void;
  /** A vehicle's Last Will on `fleet/{vid}/status` (its own status publishes go to IngestSink, committed before PUBACK). */
  status(vehicleId: string, payload: Buffer, at: Date): void;
}
