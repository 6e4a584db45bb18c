// A broker in its own process, so a test can measure the broker's memory (and only the broker's) with /proc/<pid>.
// Seeded from SPECFLEET_TEST_VEHICLES ("id:secret,id:secret"); tells its parent its ports over IPC and answers
// {cmd:'stats'} with what its ingest sink committed. SPECFLEET_TEST_MAX_PACKET and SPECFLEET_TEST_OVERSIZE
// (oversizePublish) set those options.
import { pino } from 'pino';
import { BrokerService } from '../../../apps/broker/src/broker.service.js';
import { InMemoryCredentialStore, RecordingConnectivitySink, RecordingIngestSink } from './harness.js';

const credentials = new InMemoryCredentialStore();
for (const pair of (process.env.SPECFLEET_TEST_VEHICLES ?? '').split(',').filter(Boolean)) {
  const [id, secret] = pair.split(':') as [string, string];
  credentials.addVehicle(id, secret);
}
const ingest = new RecordingIngestSink();
const service = new BrokerService({
  options: {
    host: '127.0.0.1',
    port: 0,
    wsPort: 0,
    shutdownGraceMs: 1_000,
    ...(process.env.SPECFLEET_TEST_MAX_PACKET ? { maxPacketSize: Number(process.env.SPECFLEET_TEST_MAX_PACKET) } : {}),
    ...(process.env.SPECFLEET_TEST_OVERSIZE === 'dead_letter' ? { oversizePublish: 'dead_letter' as const } : {}),
  },
  credentials,
  ingest,
  connectivity: new RecordingConnectivitySink(),
  logger: pino({ level: 'warn' }, process.stderr),
});
const ports = await service.start();
process.send?.({ ready: true, ...ports });
process.on('message', (message: { cmd: string }) => {
  if (message.cmd === 'stats') {
    process.send?.({ committed: ingest.committed.length, oversize: ingest.committed.flatMap((m) => (m.oversizeBytes === undefined ? [] : [{ bytes: m.oversizeBytes, kept: m.payload.length }])) });
  }
  if (message.cmd === 'stop') void service.stop().then(() => process.exit(0));
});
process.on('disconnect', () => void service.stop().then(() => process.exit(0)));
