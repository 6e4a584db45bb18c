// Public API of the simulator, for `npm start` (embedded fleet) and tests: the fleet definition, the live and
// backfill runners, and the building blocks (one vehicle's model, the firmware client, fault rates).
export { fleetDefinition, parseMix, type FleetVehicle, type MixEntry } from './fleet-definition.js';
export {
  startFleet,
  runBackfill,
  FIRMWARE_VERSION,
  type FleetOptions,
  type FleetHandle,
  type FleetStats,
  type BackfillOptions,
  type BackfillProgress,
  type BackfillSummary,
  type CredentialSource,
} from './fleet.js';
export { SimulatedVehicle, type VehicleDefinition, type SimulationOptions } from './simulated-vehicle.js';
export { NO_FAULTS, type FaultRates, type FaultCounts } from './faults.js';
export { DEFAULT_ALARM_RATES, type AlarmRates } from './alarms.js';
export { provisionVehicles, loadCredentialsFile, type CredentialMap } from './provision.js';
export { VEHICLE_CLASSES, findVehicleClass, allCombinations } from './vehicles/index.js';
export { POWERTRAINS, type Powertrain } from './energy/powertrain.js';
export type { VehicleType } from './vehicles/vehicle-class.js';
