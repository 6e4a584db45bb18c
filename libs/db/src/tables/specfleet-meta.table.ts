// specfleet_meta: facts the migrations recorded about this database (key → value), e.g. the storage backend.
import type { Insertable, Selectable } from 'kysely';
import type { GeneratedTimestamp } from './column-types.js';

export interface SpecfleetMetaTable {
  key: string;
  value: string;
  updated_at: GeneratedTimestamp;
}

export type SpecfleetMetaRow = Selectable<SpecfleetMetaTable>;
export type NewSpecfleetMetaRow = Insertable<SpecfleetMetaTable>;
