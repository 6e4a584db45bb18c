// The registry of vehicle class models (SPEC §1), by type and by the short alias used in --mix.
import type { Powertrain } from '../energy/powertrain.js';
import { aerialLadder } from './aerial-ladder.model.js';
import { ambulance } from './ambulance.model.js';
import { deliveryVan } from './delivery-van.model.js';
import { fireEngine } from './fire-engine.model.js';
import { garbageCompactor } from './garbage-compactor.model.js';
import { hazmatTanker } from './hazmat-tanker.model.js';
import { refrigeratedTruck } from './refrigerated-truck.model.js';
import { roadSweeper } from './road-sweeper.model.js';
import { sightseeingBus } from './sightseeing-bus.model.js';
import { sprinkler } from './sprinkler.model.js';
import type { BodyModel, VehicleClassModel, VehicleType } from './vehicle-class.js';

export { VEHICLE_TYPES, type VehicleType, type VehicleClassModel } from './vehicle-class.js';

// Each model is typed with its own body class; the registry only needs the common interface.
const erase = <B extends BodyModel>(m: VehicleClassModel<B>): VehicleClassModel => m as unknown as VehicleClassModel;

export const VEHICLE_CLASSES: readonly VehicleClassModel[] = [
  erase(roadSweeper),
  erase(garbageCompactor),
  erase(sprinkler),
  erase(deliveryVan),
  erase(refrigeratedTruck),
  erase(fireEngine),
  erase(ambulance),
  erase(aerialLadder),
  erase(sightseeingBus),
  erase(hazmatTanker),
];

const byType = new Map<string, VehicleClassModel>(VEHICLE_CLASSES.map((m) => [m.type, m]));
const byAlias = new Map<string, VehicleClassModel>(VEHICLE_CLASSES.map((m) => [m.alias, m]));

export function vehicleClass(type: VehicleType): VehicleClassModel {
  const model = byType.get(type);
  if (!model) throw new RangeError(`unknown vehicle type: ${type}`);
  return model;
}

/** Finds a class by type (`road_sweeper`) or alias (`sweeper`). */
export function findVehicleClass(name: string): VehicleClassModel | undefined {
  return byType.get(name) ?? byAlias.get(name);
}

/** Every (class, powertrain) pair the fleet can contain. */
export function allCombinations(): Array<{ model: VehicleClassModel; powertrain: Powertrain }> {
  return VEHICLE_CLASSES.flatMap((model) => model.powertrains.map((powertrain) => ({ model, powertrain })));
}
