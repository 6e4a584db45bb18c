// authenticate: username = vehicle id (or service account id), password = its secret, client id = username.
// Every refusal answers CONNACK 4 (bad credentials: which part was wrong is not revealed) or 5 (not authorised),
// or 3 when the registry cannot answer; each is logged and counted, never with the secret.
// A CONNECT for a client id that is already connected is a takeover: accepting it closes the live session
// [MQTT-3.1.4-2], so its secret is checked against the registry itself, never the cache. A secret rotated in another
// process (distributed mode has no rotation notice) would otherwise stay good for the cache's TTL, long enough to kick
// the vehicle that holds the new one.
import type { Client } from 'aedes';
import type { Logger } from 'pino';
import { isValidVehicleId } from '@fleet/contracts';
import type { Principal } from '../acl.js';
import type { BrokerOptions } from '../broker.options.js';
import { BrokerRefusal, type ClientSessions, forLog } from '../client-sessions.js';
import { secretMatches } from '../credentials/credential-cache.js';
import { TokenBucket } from '../limits/token-bucket.js';
import type { BrokerMetrics, RefusalReason } from '../metrics.js';
import type { CredentialStore } from '../ports.js';

export interface AuthenticateDeps {
  options: Pick<BrokerOptions, 'authTimeoutMs' | 'publishRate' | 'publishBurst'>;
  credentials: CredentialStore;
  sessions: ClientSessions;
  metrics: BrokerMetrics;
  logger: Logger;
  /** Whether an authenticated client with this client id is connected now, i.e. whether this CONNECT would take it over. */
  isConnected: (clientId: string) => boolean;
}

type Done = (error: (Error & { returnCode: number }) | null, success: boolean | null) => void;

/** Service accounts run N workers on one account, so their client ids are `{account}` or `{account}:{anything}`. */
const SERVICE_CLIENT_ID = /^[^\u0000-\u001f\u007f+#]{1,64}$/;

export function createAuthenticateHook(deps: AuthenticateDeps) {
  const { credentials, sessions, metrics, logger, options, isConnected } = deps;

  function refuse(client: Client, done: Done, reason: RefusalReason, returnCode: 3 | 4 | 5, username: string | undefined, takeover = false): void {
    metrics.refuse(reason);
    logger.warn({ event: 'connect_refused', reason, returnCode, takeover, clientId: forLog(client.id ?? undefined), username: forLog(username) }, 'MQTT connect refused');
    done(new BrokerRefusal(`connect refused: ${reason}`, reason, returnCode) as BrokerRefusal & { returnCode: number }, false);
  }

  async function resolve(client: Client, username: string, password: Buffer, fresh: boolean): Promise<Principal | { refuse: RefusalReason; code: 4 | 5 }> {
    const result = await resolveWith(client, username, password, fresh);
    // A secret the cached entry refuses may have been issued since (a rotation or a provisioning in another process,
    // which distributed mode is not told of): ask the registry once more before refusing, so the vehicle holding it
    // gets in at once instead of after the cache's TTL. The fresh answer also replaces the cached one.
    if (!fresh && 'refuse' in result && (result.refuse === 'bad_credentials' || result.refuse === 'unknown_principal')) {
      return resolveWith(client, username, password, true);
    }
    return result;
  }

  async function resolveWith(client: Client, username: string, password: Buffer, fresh: boolean): Promise<Principal | { refuse: RefusalReason; code: 4 | 5 }> {
    // Service accounts first: provisioning must keep vehicle ids and service account ids apart (they share syntax).
    const service = await credentials.findServiceAccount(username, { fresh });
    if (service) {
      if (!secretMatches(password, service.secretDigest)) return { refuse: 'bad_credentials', code: 4 };
      const id = client.id;
      if (!(id === username || (id.startsWith(`${username}:`) && SERVICE_CLIENT_ID.test(id)))) return { refuse: 'client_id_mismatch', code: 5 };
      if (sessions.connectInfo(client)?.willTopic !== undefined) return { refuse: 'will_denied', code: 5 };
      return { kind: 'service', id: username };
    }
    const vehicle = await credentials.findVehicle(username, { fresh });
    if (!vehicle) {
      // Same answer as a wrong secret, so ids cannot be probed; the hash keeps the timing alike too.
      secretMatches(password, Buffer.alloc(32));
      return { refuse: 'unknown_principal', code: 4 };
    }
    if (!secretMatches(password, vehicle.secretDigest)) return { refuse: 'bad_credentials', code: 4 };
    if (client.id !== username) return { refuse: 'client_id_mismatch', code: 5 };
    const willTopic = sessions.connectInfo(client)?.willTopic;
    if (willTopic !== undefined && willTopic !== `fleet/${username}/status`) return { refuse: 'will_denied', code: 5 };
    return { kind: 'vehicle', id: username, tenantId: vehicle.tenantId };
  }

  return function authenticate(client: Client, username: string | undefined, password: Buffer | undefined, done: Done): void {
    if (typeof username !== 'string' || !isValidVehicleId(username)) return refuse(client, done, 'invalid_id', 4, username);
    if (!password || password.length === 0) return refuse(client, done, 'bad_credentials', 4, username);

    const takeover = typeof client.id === 'string' && isConnected(client.id);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`credential lookup took longer than ${options.authTimeoutMs} ms`)), options.authTimeoutMs);
    });
    Promise.race([resolve(client, username, password, takeover), timeout])
      .then(
        (result) => {
          if ('refuse' in result) return refuse(client, done, result.refuse, result.code, username, takeover);
          sessions.set(client, {
            principal: result,
            bucket: new TokenBucket(options.publishRate, options.publishBurst),
            hadWill: sessions.connectInfo(client)?.willTopic !== undefined,
            keepaliveTimedOut: false,
          });
          done(null, true);
        },
        (error: unknown) => {
          logger.error({ event: 'registry_unavailable', err: error, username: forLog(username) }, 'credential lookup failed');
          refuse(client, done, 'registry_unavailable', 3, username, takeover);
        },
      )
      .finally(() => clearTimeout(timer));
  };
}
