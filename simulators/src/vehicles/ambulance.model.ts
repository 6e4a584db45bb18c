// Ambulance (救护车): standby at the ambulance station with the medical body powered (fridge, oxygen, chargers),
// frequent calls, patient care at the scene and on the way to the hospital, handover, back to the station.
import { SITES, type LatLon } from '../geo.js';
import type { Rng } from '../random.js';
import { emergencyMission, stationLoop, type MissionPhase } from './emergency-mission.js';
import { powertrainSpec, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const O2_FULL_BAR = 200;

export class MedicalBody implements BodyModel {
  phase: MissionPhase = 'standby';
  scene: LatLon | undefined;
  cabinC: number;
  private o2Bar: number;
  private patient = false;

  constructor(rng: Rng) {
    this.cabinC = rng.uniform(20, 24);
    this.o2Bar = rng.uniform(120, O2_FULL_BAR);
  }

  step(mode: string, ctx: BodyContext): BodyOutput {
    this.patient = mode === 'patient';
    // Patient compartment climate is held at 22–24 °C while a patient is aboard, drifts otherwise.
    const target = this.patient ? 23 : 0.5 * (ctx.ambientC + 22);
    this.cabinC += (target - this.cabinC) * Math.min(1, ctx.dtS / 600);
    if (this.patient) this.o2Bar = Math.max(20, this.o2Bar - (ctx.dtS / 60) * 0.8);
    if (mode === 'restock') this.o2Bar = O2_FULL_BAR;
    if (mode === 'off') return { active: false, powerKw: 0 };
    const climateKw = this.patient ? 1.2 + 0.06 * Math.abs(ctx.ambientC - 23) : 0.2;
    return { active: true, powerKw: (this.patient ? 1.6 : 0.6) + climateKw };
  }

  signals() {
    return {
      patient_on_board: this.patient,
      cabin_temp_c: Math.round(this.cabinC * 10) / 10,
      o2_bar: Math.round(this.o2Bar),
      mission: this.phase,
    };
  }

  cargoKg(): number {
    return this.patient ? 300 : 200;
  }
}

export const ambulance: VehicleClassModel<MedicalBody> = {
  type: 'ambulance',
  alias: 'ambulance',
  code: 'AMB',
  label: 'ambulance',
  bodyType: 'medical',
  powertrains: ['ice', 'phev', 'bev'],
  chassis: { massKg: 4000, cdA: 2.6, crr: 0.009, auxKw: 1.5, maxDriveKw: 120, cruiseKmh: 75 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      ice: { fuelCapacityL: 80, engineKw: 120 },
      phev: { batteryKwh: 35, fuelCapacityL: 60, engineKw: 80, chargerKw: 11, maxRegenKw: 50, cellsSeries: 108 },
      bev: { batteryKwh: 90, chargerKw: 60, maxRegenKw: 60, cellsSeries: 108 },
    }),
  reportIntervalS: 10,
  alwaysOnBody: 'standby',
  home: SITES.ambulanceStation,
  createBeat: (rng) => stationLoop(rng, SITES.ambulanceStation),
  createBody: (rng) => new MedicalBody(rng),
  plan: (ctx, body) =>
    emergencyMission(ctx, body, {
      callsPerDay: 9,
      sceneKmh: 65,
      standbyBody: 'standby',
      onScene: (c) => c.park('patient care at the scene', c.rng.uniform(8, 25) * 60, 'working', 'patient'),
      via: {
        site: SITES.hospital,
        label: 'patient to hospital',
        body: 'patient',
        kmh: 55,
        dwell: (c) => c.park('handover at hospital', c.rng.uniform(10, 25) * 60, 'idle', 'standby'),
      },
      restock: (c) => c.park('restock oxygen and supplies', 600, 'idle', 'restock', true),
    }),
};
