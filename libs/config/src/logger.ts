// One structured JSON logger for every process (pino), named by service, with secrets redacted.
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

const REDACT = [
  'password',
  'secret',
  'apiKey',
  'authorization',
  '*.password',
  '*.secret',
  '*.apiKey',
  '*.authorization',
  'req.headers.authorization',
];

export function createLogger(service: string, level = 'info'): Logger {
  return pino({ name: service, level, redact: { paths: REDACT, censor: '[redacted]' }, base: { service } });
}
