// The v1 status message of SPEC §3: retained on fleet/{vid}/status and used as the Last Will (online=false).
import Type, { type Static } from 'typebox';
import { Version } from './common.schema.js';

export const StatusMessageSchema = Type.Object(
  {
    v: Type.Optional(Version),
    online: Type.Boolean({ description: 'false in the Last Will, true once connected' }),
    fw: Type.Optional(Type.String({ minLength: 1, maxLength: 64, description: 'firmware version, e.g. 1.4.2' })),
  },
  // Strict like the other payloads: unknown properties are rejected (SCHEMA).
  { additionalProperties: false, $id: 'StatusMessageV1', title: 'Status message v1', description: 'SPEC §3 status' },
);

export type StatusMessage = Static<typeof StatusMessageSchema>;

/** JSON Schema of the status message, for OpenAPI. */
export const statusMessageJsonSchema: Readonly<Record<string, unknown>> = StatusMessageSchema as unknown as Record<string, unknown>;

/** Status messages are tiny; anything larger than this is PAYLOAD_TOO_LARGE. */
export const MAX_STATUS_BYTES = 1024;
