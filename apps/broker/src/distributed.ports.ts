// The IngestSink and ConnectivitySink of the standalone broker (distributed mode, SPEC §2). There the broker stores
// nothing in the database itself: the ingestion workers are ordinary MQTT clients with a persistent session
// (clean: false, fixed client id) and QoS 1 subscriptions to fleet/+/telemetry, fleet/+/events, fleet/+/status …
import type { Logger } from 'pino';
import type { ConnectivitySink, DisconnectReason, IngestMessage, IngestSink } from './ports.js';

/**
 * Routing only: a PUBLISH accepted by the ACL goes to the subscribers through aedes. What makes the PUBACK safe is
 * not this sink but the durable aedes persistence (MQTT_PERSISTENCE=level): the message is queued on disk for every
 * persistent session subscribed to it before the PUBACK is sent (persistence/broker-persistence.ts), and stays there
 * until that session's worker has acknowledged it — which the worker does only after its database commit.
 */
export class RoutingIngestSink implements IngestSink {
  ingest(_message: IngestMessage): Promise<void> {
    return Promise.resolve();
  }
}

/**
 * Logs connect/disconnect only. Connectivity reaches vehicle_state without the broker touching the database: each
 * vehicle publishes its retained `fleet/{vid}/status` ({"online":true}) on connect and registers the same topic as its
 * Last Will ({"online":false}), which aedes publishes when the vehicle vanishes (keepalive timeout, dropped socket) —
 * and, for a will persisted by a broker that was killed, once the restarted broker notices (aedes' will sweep). The
 * ingestion workers subscribe to fleet/+/status with QoS 1 on their persistent session and write vehicle_state from
 * those messages, so a status or will published while no worker is connected is queued for them like telemetry.
 * A vehicle that disconnects cleanly publishes {"online":false} first; one that does not is marked offline by the
 * silence threshold (SPEC §5, connectivity).
 */
export class LoggingConnectivitySink implements ConnectivitySink {
  constructor(private readonly logger: Logger) {}

  connected(vehicleId: string, at: Date): void {
    this.logger.debug({ event: 'vehicle_connected', vehicleId, at }, 'vehicle connected');
  }

  disconnected(vehicleId: string, at: Date, reason: DisconnectReason): void {
    this.logger.debug({ event: 'vehicle_disconnected', vehicleId, at, reason }, 'vehicle disconnected');
  }

  status(vehicleId: string, payload: Buffer, at: Date): void {
    this.logger.debug({ event: 'vehicle_status', vehicleId, at, bytes: payload.length }, 'vehicle status routed to the ingestion workers');
  }
}
