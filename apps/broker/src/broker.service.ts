// Owns the aedes instance and its two listeners (TCP, WebSocket), wires the hooks and limits to the ports, turns
// aedes' events into logs, metrics and connectivity facts, and shuts down gracefully: stop accepting, stop reading,
// let in-flight commits finish (their PUBACKs go out), then close the clients and the listeners.
import { randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { Inject, Injectable, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { Aedes, type Client } from 'aedes';
import type { Logger } from 'pino';
import { createWebSocketStream, WebSocketServer } from 'ws';
import { createLogger } from '@fleet/config';
import { isValidVehicleId } from '@fleet/contracts';
import { DEAD_LETTER_RAW_LIMIT } from '@fleet/db';
import { authorizeSubscribeFilter } from './acl.js';
import { type BrokerOptions, resolveBrokerOptions } from './broker.options.js';
import { BrokerRefusal, ClientSessions, forLog } from './client-sessions.js';
import { CachedCredentialStore } from './credentials/credential-cache.js';
import { createAuthenticateHook } from './hooks/authenticate.hook.js';
import { createAuthorizeForwardHook } from './hooks/authorize-forward.hook.js';
import { createAuthorizePublishHook } from './hooks/authorize-publish.hook.js';
import { createAuthorizeSubscribeHook } from './hooks/authorize-subscribe.hook.js';
import { createPreConnectHook } from './hooks/pre-connect.hook.js';
import { createPublishedHook } from './hooks/published.hook.js';
import { type OversizeForwarding, PacketSizeGuard } from './limits/packet-size-guard.js';
import { BrokerMetrics, type Transport } from './metrics.js';
import { storeOnlyAuthorizedSubscriptions, type SubscriptionStore } from './persistence/authorized-subscriptions.js';
import { type AedesIdentity, type BrokerPersistence, openBrokerPersistence } from './persistence/broker-persistence.js';
import type { ConnectivitySink, CredentialStore, DisconnectReason, IngestSink } from './ports.js';

export const BROKER_DEPS = Symbol('BROKER_DEPS');

export interface BrokerDeps {
  options?: Partial<BrokerOptions>;
  credentials: CredentialStore;
  ingest: IngestSink;
  connectivity: ConnectivitySink;
  logger?: Logger;
}

export interface BrokerAddresses {
  tcp: number;
  ws: number | null;
}

@Injectable()
export class BrokerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly options: Readonly<BrokerOptions>;
  readonly metrics: BrokerMetrics;
  private readonly logger: Logger;
  private readonly credentials: CachedCredentialStore;
  private readonly sessions = new ClientSessions();
  private readonly connections = new Set<PacketSizeGuard>();
  /** WebSocket-port sockets not yet upgraded: they hold a descriptor too, so they count against maxConnections. */
  private readonly pendingUpgrades = new Map<Socket, NodeJS.Timeout>();
  private readonly inflight = new Set<Promise<unknown>>();
  private readonly vehicles = new Map<string, Client>();
  /**
   * With oversizePublish 'dead_letter': an oversize PUBLISH reaches aedes as a stand-in whose payload starts with this
   * broker's random marker (PacketSizeGuard), which the publish hook turns into a dead letter and the forward hook
   * never delivers. A client that learnt the marker could only make its own publishes dead letters.
   */
  private readonly oversize: OversizeForwarding | undefined;
  private aedes: Aedes | undefined;
  private persistence: BrokerPersistence | undefined;
  private tcp: TcpServer | undefined;
  private http: HttpServer | undefined;
  private wss: WebSocketServer | undefined;
  private stopping: Promise<void> | undefined;

  constructor(@Inject(BROKER_DEPS) private readonly deps: BrokerDeps) {
    this.options = resolveBrokerOptions(deps.options);
    this.logger = deps.logger ?? createLogger('broker');
    this.credentials = new CachedCredentialStore(deps.credentials, this.options.credentialCacheTtlMs, this.options.credentialNegativeCacheTtlMs);
    this.metrics = new BrokerMetrics(() => this.aedes?.connectedClients ?? 0);
    // The stand-in keeps what a dead letter keeps of a payload (DEAD_LETTER_RAW_LIMIT).
    this.oversize = this.options.oversizePublish === 'dead_letter' ? { marker: randomBytes(16), keepBytes: DEAD_LETTER_RAW_LIMIT } : undefined;
  }

  async onApplicationBootstrap(): Promise<void> {
    await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  async start(): Promise<BrokerAddresses> {
    if (this.aedes) throw new Error('broker already started');
    const { options, sessions, metrics, logger } = this;
    const inflight = { add: (p: Promise<unknown>) => this.track(p) };
    const persistence = await openBrokerPersistence(options);
    this.persistence = persistence;
    const enqueueBeforeAck = persistence.enqueueBeforeAck;
    let self: AedesIdentity | undefined; // the hooks only run once createBroker has resolved
    // No fixed aedes `id`: the level persistence keys queued messages by {brokerId}:{brokerCounter} and the counter
    // restarts at 0 with the process, so a fixed id would overwrite what the previous run left queued.
    const aedes = await Aedes.createBroker({
      persistence: persistence.aedesPersistence,
      connectTimeout: options.connectTimeoutMs,
      drainTimeout: options.drainTimeoutMs,
      maxTopicLevels: options.maxTopicLevels,
      queueLimit: options.queueLimit,
      preConnect: createPreConnectHook({ options, sessions }),
      authenticate: createAuthenticateHook({
        options,
        credentials: this.credentials,
        sessions,
        metrics,
        logger,
        // aedes.clients holds the authenticated clients by id: the map registerClient consults to decide a takeover.
        isConnected: (clientId) => (this.aedes as unknown as { clients: Record<string, Client | undefined> } | undefined)?.clients[clientId] !== undefined,
      }),
      authorizePublish: createAuthorizePublishHook({
        options,
        ingest: this.deps.ingest,
        sessions,
        metrics,
        logger,
        inflight,
        enqueueBeforeAck: enqueueBeforeAck && ((packet) => enqueueBeforeAck(self!, packet)),
        oversizeMarker: this.oversize?.marker,
      }),
      authorizeSubscribe: createAuthorizeSubscribeHook({ sessions, metrics, logger }),
      authorizeForward: createAuthorizeForwardHook({ sessions, metrics, oversizeMarker: this.oversize?.marker }),
      published: createPublishedHook({ connectivity: this.deps.connectivity, logger }),
    }).catch(async (error: unknown) => {
      await persistence.close(); // release the LevelDB lock: a retry in this process must be able to open it
      this.persistence = undefined;
      throw error;
    });
    self = aedes as unknown as AedesIdentity; // aedes.d.ts omits `counter`, which aedes-packet increments
    // aedes persists a SUBSCRIBE's refused filters along with its granted ones (see the module): store only what the
    // subscribe ACL allows that client, whichever persistence aedes runs on (its default memory one included).
    storeOnlyAuthorizedSubscriptions((aedes as unknown as { persistence: SubscriptionStore }).persistence, (client, filter) => {
      const session = sessions.get(client);
      return session !== undefined && authorizeSubscribeFilter(session.principal, filter).allowed;
    });
    this.aedes = aedes;
    this.observe(aedes);

    this.tcp = createTcpServer({ noDelay: true }, (socket: Socket) => this.accept(socket, 'tcp', socket.remoteAddress));
    const tcpPort = await listen(this.tcp, options.port, options.host);

    let wsPort: number | null = null;
    if (options.wsPort !== null) {
      this.http = createHttpServer({ headersTimeout: options.connectTimeoutMs, requestTimeout: options.connectTimeoutMs }, (_req, res) => {
        res.writeHead(426, { 'content-type': 'text/plain' }).end('MQTT over WebSocket only\n');
      });
      // Until its upgrade a WebSocket socket is no MQTT connection yet, so neither aedes' connect timeout nor accept()'s
      // cap sees it; Node's request timeouts (set above) closed neither a silent nor a half-sent socket on Node 24. So it
      // counts against maxConnections from its first byte and is closed when it has not upgraded within connectTimeoutMs.
      this.http.on('connection', (socket: Socket) => this.acceptUpgradable(socket));
      // maxPayload bounds a single frame; the guard still bounds a packet split over many small frames.
      this.wss = new WebSocketServer({ server: this.http, maxPayload: options.maxPacketSize + 8 });
      this.wss.on('connection', (ws, req: IncomingMessage) => {
        ws.on('error', () => undefined); // surfaced through the stream below
        this.releasePending(req.socket);
        this.accept(createWebSocketStream(ws), 'ws', req.socket.remoteAddress, req);
      });
      wsPort = await listen(this.http, options.wsPort, options.host);
    }
    logger.info(
      { event: 'broker_listening', tcp: tcpPort, ws: wsPort, persistence: persistence.kind, persistenceDir: persistence.location, limits: limitsForLog(options) },
      'MQTT broker listening',
    );
    return { tcp: tcpPort, ws: wsPort };
  }

  addresses(): BrokerAddresses {
    const tcp = this.tcp?.address() as AddressInfo | null;
    const ws = this.http?.address() as AddressInfo | null;
    if (!tcp) throw new Error('broker not started');
    return { tcp: tcp.port, ws: ws ? ws.port : null };
  }

  /**
   * Drops the cached credentials of `id` after its secret was rotated, so the next CONNECT checks the new one;
   * with `disconnect`, a vehicle connected with the old secret is closed too.
   */
  invalidateCredentials(id: string, opts: { disconnect?: boolean } = {}): void {
    this.credentials.invalidate(id);
    if (opts.disconnect) this.vehicles.get(id)?.close();
  }

  /** Sends a command to a vehicle (QoS 1; queued in its persistent session while it is offline). */
  publishCommand(vehicleId: string, payload: Buffer): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return Promise.reject(new Error('broker not started'));
    if (!isValidVehicleId(vehicleId)) return Promise.reject(new RangeError('invalid vehicle id'));
    return new Promise((resolve, reject) => {
      aedes.publish({ cmd: 'publish', topic: `fleet/${vehicleId}/cmd`, payload, qos: 1, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    const aedes = this.aedes;
    if (!aedes) return;
    const started = Date.now();
    // 1. Stop accepting.
    const closed = [closeServer(this.tcp), this.wss ? new Promise<void>((r) => this.wss!.close(() => r())) : undefined, closeServer(this.http)];
    for (const socket of this.pendingUpgrades.keys()) socket.destroy(); // not MQTT yet: nothing to drain
    // 2. Stop reading: no new PUBLISH starts, so the commits in flight are the last ones.
    for (const conn of this.connections) conn.stopReading();
    // 3. Drain: in-flight commits complete and their PUBACKs are written, within the grace period.
    const pending = this.inflight.size;
    const drained = await settleWithin([...this.inflight], this.options.shutdownGraceMs);
    // 4. Let the PUBACKs just written leave (mqtt-packet corks until the next tick), then half-close each socket so
    //    they are flushed before FIN: aedes.close() would destroy the sockets and could discard them.
    await new Promise((resolve) => setImmediate(resolve));
    const ended = [...this.connections]
      .filter((conn) => !conn.destroyed)
      .map((conn) => new Promise<void>((resolve) => conn.once('close', () => resolve()).end()));
    await settleWithin(ended, Math.min(1_000, this.options.shutdownGraceMs));
    // 5. Close the clients (aedes publishes their wills), then whatever socket never completed CONNECT.
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    for (const conn of this.connections) conn.destroy();
    await Promise.all(closed);
    // 6. aedes does not close its persistence: flush and release the LevelDB lock for the next process.
    await this.persistence?.close();
    this.logger.info({ event: 'broker_stopped', pendingCommits: pending, drained, ms: Date.now() - started }, 'MQTT broker stopped');
  }

  private track(promise: Promise<unknown>): void {
    this.inflight.add(promise);
    const forget = (): void => {
      this.inflight.delete(promise);
    };
    promise.then(forget, forget);
  }

  /** Sockets open now against maxConnections: MQTT connections plus WebSocket sockets awaiting their upgrade. */
  private openSockets(): number {
    return this.connections.size + this.pendingUpgrades.size;
  }

  private refuseConnection(stream: Duplex, transport: Transport, remoteAddress: string | undefined): void {
    this.metrics.refuse('max_connections');
    this.logger.warn({ event: 'max_connections', transport, remoteAddress, open: this.openSockets() }, 'MQTT connection refused');
    stream.destroy();
  }

  private acceptUpgradable(socket: Socket): void {
    if (!this.aedes || this.stopping || this.openSockets() >= this.options.maxConnections) {
      this.refuseConnection(socket, 'ws', socket.remoteAddress);
      return;
    }
    const timer = setTimeout(() => {
      this.pendingUpgrades.delete(socket);
      this.metrics.refuse('connect_timeout');
      this.logger.warn({ event: 'connect_timeout', transport: 'ws', remoteAddress: socket.remoteAddress }, 'WebSocket socket closed: no upgrade in time');
      socket.destroy();
    }, this.options.connectTimeoutMs);
    this.pendingUpgrades.set(socket, timer);
    socket.once('close', () => this.releasePending(socket));
  }

  /** The socket upgraded (its slot passes to accept(), and aedes' connect timeout takes over) or closed. */
  private releasePending(socket: Socket): void {
    clearTimeout(this.pendingUpgrades.get(socket));
    this.pendingUpgrades.delete(socket);
  }

  private accept(stream: Duplex, transport: Transport, remoteAddress: string | undefined, req?: IncomingMessage): void {
    const aedes = this.aedes;
    if (!aedes || this.stopping || this.openSockets() >= this.options.maxConnections) {
      this.refuseConnection(stream, transport, remoteAddress);
      return;
    }
    // The client of this connection, once aedes.handle has made it (the guard's callbacks run on data, later).
    let client: Client | undefined;
    const oversize: OversizeForwarding | undefined = this.oversize && {
      ...this.oversize,
      // Only a vehicle's messages have a dead-letter table to go to: a service account's oversize command closes the
      // connection at its header, unread (so does anything before CONNECT, see PacketSizeGuard). While the CONNECT is
      // still being authenticated, the PUBLISH is read past and the publish hook decides with the session.
      mayReadPast: () => {
        const session = this.sessions.get(client);
        return session === undefined || session.principal.kind === 'vehicle';
      },
      onReadingPast: () => {
        const c = client as (Client & { _keepaliveInterval?: number; _keepaliveTimer?: NodeJS.Timeout | null }) | undefined;
        if (c?._keepaliveInterval !== undefined && c._keepaliveInterval > 0) c._keepaliveTimer?.refresh();
      },
    };
    const conn = new PacketSizeGuard(
      stream,
      this.options.maxPacketSize,
      (kind, error) => {
        this.metrics.refuse(kind);
        this.logger.warn({ event: kind, transport, remoteAddress, err: error.message }, 'MQTT connection closed by packet limit');
      },
      remoteAddress,
      oversize,
    );
    this.connections.add(conn);
    this.metrics.connections.inc({ transport });
    this.metrics.connectionsAccepted.inc({ transport });
    conn.once('close', () => {
      this.connections.delete(conn);
      this.metrics.connections.dec({ transport });
    });
    client = aedes.handle(conn, req);
  }

  private observe(aedes: Aedes): void {
    const { logger, sessions, metrics } = this;
    aedes.on('clientReady', (client) => {
      const session = sessions.get(client);
      const info = sessions.connectInfo(client);
      logger.info(
        { event: 'client_connected', clientId: client.id, kind: session?.principal.kind, clean: client.clean, keepaliveS: info?.effectiveKeepaliveS, requestedKeepaliveS: info?.requestedKeepaliveS },
        'MQTT client connected',
      );
      if (session?.principal.kind === 'vehicle') {
        this.vehicles.set(client.id, client);
        this.safely(() => this.deps.connectivity.connected(client.id, new Date()));
      }
    });
    aedes.on('clientDisconnect', (client) => {
      const session = sessions.get(client);
      const reason = disconnectReason(client, session);
      logger.info({ event: 'client_disconnected', clientId: client.id, reason }, 'MQTT client disconnected');
      if (session?.principal.kind === 'vehicle') {
        if (this.vehicles.get(client.id) === client) this.vehicles.delete(client.id);
        this.safely(() => this.deps.connectivity.disconnected(client.id, new Date(), reason));
      }
    });
    aedes.on('keepaliveTimeout', (client) => {
      const session = sessions.get(client);
      if (session) session.keepaliveTimedOut = true;
      logger.info({ event: 'keepalive_timeout', clientId: forLog(client.id) }, 'MQTT keepalive timeout');
    });
    aedes.on('clientError', (client, error) => {
      // Refusals were logged (with their reason) where they were decided; the rest are protocol or socket errors.
      if (error instanceof BrokerRefusal || isGuardError(error)) return;
      logger.warn({ event: 'client_error', clientId: forLog(client.id), err: error.message }, 'MQTT client error');
    });
    aedes.on('connectionError', (client, error) => {
      if (error.message === 'connect did not arrive in time') {
        metrics.refuse('connect_timeout');
        logger.warn({ event: 'connect_timeout', remoteAddress: (client.conn as Partial<PacketSizeGuard>).remoteAddress }, 'MQTT socket closed: no CONNECT in time');
        return;
      }
      if (error instanceof BrokerRefusal || isGuardError(error)) return;
      logger.warn({ event: 'connection_error', remoteAddress: (client.conn as Partial<PacketSizeGuard>).remoteAddress, err: error.message }, 'MQTT connection error');
    });
    // aedes emits 'error' for persistence failures; unhandled, an EventEmitter 'error' would crash the process.
    (aedes as EventEmitter).on('error', (error: Error) => logger.error({ event: 'broker_error', err: error }, 'aedes error'));
  }

  private safely(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.logger.error({ event: 'connectivity_sink_error', err: error }, 'connectivity sink failed');
    }
  }
}

function disconnectReason(client: Client, session: { keepaliveTimedOut: boolean; hadWill: boolean } | undefined): DisconnectReason {
  if (client.conn instanceof PacketSizeGuard && client.conn.sawDisconnect) return 'clean';
  if (session?.keepaliveTimedOut) return 'timeout';
  if (session?.hadWill) return 'will';
  return 'error';
}

function isGuardError(error: Error): boolean {
  const code = (error as { code?: string }).code;
  return code === 'ERR_MQTT_PACKET_TOO_LARGE' || code === 'ERR_MQTT_MALFORMED_LENGTH';
}

function listen(server: TcpServer | HttpServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: TcpServer | HttpServer | undefined): Promise<void> | undefined {
  if (!server?.listening) return undefined;
  return new Promise((resolve) => server.close(() => resolve()));
}

async function settleWithin(promises: Promise<unknown>[], ms: number): Promise<boolean> {
  if (promises.length === 0) return true;
  let timer: NodeJS.Timeout | undefined;
  const all = Promise.allSettled(promises).then(() => true);
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([all, late]);
  } finally {
    clearTimeout(timer);
  }
}

function limitsForLog(o: BrokerOptions): Record<string, number> {
  return {
    maxPacketSize: o.maxPacketSize,
    connectTimeoutMs: o.connectTimeoutMs,
    maxConnections: o.maxConnections,
    publishRate: o.publishRate,
    publishBurst: o.publishBurst,
    keepaliveMinS: o.keepaliveMinS,
    keepaliveMaxS: o.keepaliveMaxS,
    maxTopicLevels: o.maxTopicLevels,
    drainTimeoutMs: o.drainTimeoutMs,
  };
}
