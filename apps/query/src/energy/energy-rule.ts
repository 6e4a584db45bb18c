// The counter-increase rule is ingestion's (apps/ingestion/src/energy/energy-increase.ts): the report must apply
// exactly the caps that filled energy_hourly, so they are imported, never copied. (When the rule moves to a
// library, only this import changes.)
export { ENERGY_COLUMNS, STEP_LIMITS as ENERGY_STEP_LIMITS, hourlyIncreases, type CounterSample } from '../../../ingestion/src/energy/energy-increase.js';
