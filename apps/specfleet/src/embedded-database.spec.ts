import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { loadConfig } from '@fleet/config';
import { openDatabaseUrl } from './embedded-database.js';

describe('openDatabaseUrl with DATABASE_URL', () => {
  it('describes the server once per part: host, port, database (the banner printed the port twice)', async () => {
    const logger = pino({ level: 'silent' });
    const named = await openDatabaseUrl(loadConfig({ DATABASE_URL: 'postgres://u:secret@db.example:55432/specfleet' }), logger);
    expect(named.description).toBe('db.example:55432/specfleet');
    const defaultPort = await openDatabaseUrl(loadConfig({ DATABASE_URL: 'postgres://u:secret@db.example/specfleet' }), logger);
    expect(defaultPort.description).toBe('db.example:5432/specfleet');
  });
});
