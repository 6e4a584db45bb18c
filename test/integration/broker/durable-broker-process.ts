// A broker in its own process so a test can kill -9 it and start it again on the same persistence directory.
// Env: SPECFLEET_TEST_VEHICLES / SPECFLEET_TEST_SERVICES ("id:secret,id:secret"), SPECFLEET_TEST_PERSISTENCE
// ('memory' | 'level'), SPECFLEET_TEST_PERSISTENCE_DIR, and SPECFLEET_TEST_SLOW_DISK_MS: every LevelDB put takes
// that much longer (a slow or busy disk), which widens the window between aedes' PUBACK and its own enqueue.
// Tells its parent its ports over IPC.
import { setTimeout as sleep } from 'node:timers/promises';
import { ClassicLevel } from 'classic-level';
import { pino } from 'pino';
import { BrokerService } from '../../../apps/broker/src/broker.service.js';
import { InMemoryCredentialStore, RecordingConnectivitySink, RecordingIngestSink } from './harness.js';

const slowDiskMs = Number(process.env.SPECFLEET_TEST_SLOW_DISK_MS ?? 0);
if (slowDiskMs > 0) {
  const put = ClassicLevel.prototype.put;
  ClassicLevel.prototype.put = async function slowPut(this: ClassicLevel, ...args: Parameters<typeof put>) {
    await sleep(slowDiskMs);
    return put.apply(this, args);
  } as typeof put;
}

const pairs = (value: string | undefined): Array<[string, string]> =>
  (value ?? '').split(',').filter(Boolean).map((pair) => pair.split(':') as [string, string]);
const credentials = new InMemoryCredentialStore();
for (const [id, secret] of pairs(process.env.SPECFLEET_TEST_VEHICLES)) credentials.addVehicle(id, secret);
for (const [id, secret] of pairs(process.env.SPECFLEET_TEST_SERVICES)) credentials.addServiceAccount(id, secret);

const persistence = process.env.SPECFLEET_TEST_PERSISTENCE === 'level' ? 'level' : 'memory';
const service = new BrokerService({
  options: {
    host: '127.0.0.1',
    port: 0,
    wsPort: null,
    shutdownGraceMs: 1_000,
    persistence,
    persistenceDir: process.env.SPECFLEET_TEST_PERSISTENCE_DIR ?? null,
  },
  credentials,
  ingest: new RecordingIngestSink(), // commits at once, like the routing-only sink of distributed mode
  connectivity: new RecordingConnectivitySink(),
  logger: pino({ level: 'warn' }, process.stderr),
});
const ports = await service.start();
process.send?.({ ready: true, ...ports });
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'stop') void service.stop().then(() => process.exit(0));
});
process.on('disconnect', () => void service.stop().then(() => process.exit(0)));
