// Prometheus metrics of the broker, in their own registry so the embedded process can merge it into /metrics and
// tests can run several brokers side by side.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type RefusalReason =
  | 'bad_credentials'
  | 'unknown_principal'
  | 'invalid_id'
  | 'client_id_mismatch'
  | 'will_denied'
  | 'registry_unavailable'
  | 'publish_denied'
  | 'qos_denied'
  | 'subscribe_denied'
  | 'rate_limited'
  | 'packet_too_large'
  | 'malformed_length'
  | 'malformed_packet'
  | 'connect_timeout'
  | 'max_connections'
  | 'ingest_failed'
  | 'enqueue_failed';

export type Transport = 'tcp' | 'ws';

export class BrokerMetrics {
  readonly registry: Registry;
  readonly connections: Gauge<'transport'>;
  readonly connectionsAccepted: Counter<'transport'>;
  readonly clients: Gauge;
  readonly publishesReceived: Counter<'channel'>;
  readonly publishesSent: Counter;
  readonly refusals: Counter<'reason'>;
  readonly ingestSeconds: Histogram<'outcome'>;

  constructor(connectedClients: () => number = () => 0, registry = new Registry()) {
    this.registry = registry;
    const registers = [registry];
    this.connections = new Gauge({ name: 'specfleet_broker_connections', help: 'Open MQTT sockets', labelNames: ['transport'], registers });
    this.connectionsAccepted = new Counter({
      name: 'specfleet_broker_connections_accepted_total',
      help: 'MQTT sockets accepted',
      labelNames: ['transport'],
      registers,
    });
    this.clients = new Gauge({
      name: 'specfleet_broker_clients',
      help: 'Authenticated MQTT clients',
      registers,
      collect() {
        this.set(connectedClients());
      },
    });
    this.publishesReceived = new Counter({
      name: 'specfleet_broker_publishes_received_total',
      help: 'PUBLISH packets accepted from clients, by channel',
      labelNames: ['channel'],
      registers,
    });
    this.publishesSent = new Counter({ name: 'specfleet_broker_publishes_sent_total', help: 'PUBLISH packets delivered to subscribers', registers });
    this.refusals = new Counter({
      name: 'specfleet_broker_refusals_total',
      help: 'Connections, publishes and subscriptions refused, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.ingestSeconds = new Histogram({
      name: 'specfleet_broker_ingest_seconds',
      help: 'Time from PUBLISH to durable commit (the PUBACK waits for it)',
      labelNames: ['outcome'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
  }

  refuse(reason: RefusalReason): void {
    this.refusals.inc({ reason });
  }
}
