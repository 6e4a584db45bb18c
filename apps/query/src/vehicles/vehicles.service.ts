// Registry reads, provisioning and credential rotation, always within the caller's tenant: a vehicle of another
// tenant is "not found", exactly like one that does not exist.
import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { decodeCursor, LISTINGS, resolveLimit, toPage } from '../common/pagination.js';
import { type FleetFilter, FleetQueryRepository, type FleetVehicleRow, VehicleRepository } from '@fleet/db';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import { generateVehicleSecret } from './vehicle-secret.js';
import { presentRegistry, presentVehicle } from './vehicle.presenter.js';
import type { CreateVehicleBody } from './vehicles.schema.js';

/** Called with a vehicle id after its secret changed; in embedded mode the broker then forgets the old one. */
export type CredentialsRotated = (vehicleId: string) => void;
export const CREDENTIALS_ROTATED = Symbol('specfleet.query.credentials-rotated');

@Injectable()
export class VehiclesService {
  constructor(
    @Inject(FleetQueryRepository) private readonly fleet: FleetQueryRepository,
    @Inject(VehicleRepository) private readonly vehicles: VehicleRepository,
    @Inject(QUERY_OPTIONS) private readonly options: QueryOptions,
    @Inject(CREDENTIALS_ROTATED) private readonly credentialsRotated: CredentialsRotated,
  ) {}

  clock(now = new Date()) {
    return { now, offlineAfterS: this.options.offlineAfterS };
  }

  /** The tenant's vehicle with its snapshot, or 404. */
  async get(tenantId: string, id: string): Promise<FleetVehicleRow> {
    const row = await this.fleet.find(tenantId, id, this.clock());
    if (!row) throw new ApiError('not_found', `no vehicle ${id}`);
    return row;
  }

  async list(tenantId: string, filter: FleetFilter, limitParam: number | undefined, cursor: string | undefined) {
    const limit = resolveLimit(limitParam, this.options.page);
    const after = decodeCursor(cursor, LISTINGS.vehicles);
    const rows = await this.fleet.list(tenantId, filter, this.clock(), { afterId: after?.[0] as string | undefined, limit });
    return toPage(rows, limit, LISTINGS.vehicles, (r) => [r.id], presentVehicle);
  }

  async provision(tenantId: string, body: CreateVehicleBody) {
    const { secret, digest } = generateVehicleSecret();
    try {
      const vehicle = await this.vehicles.create({
        id: body.id,
        tenantId,
        type: body.type,
        bodyType: body.body_type,
        powertrain: body.powertrain,
        vin: body.vin ?? null,
        model: body.model ?? null,
        batteryKwh: body.battery_kwh ?? null,
        h2CapacityKg: body.h2_capacity_kg ?? null,
        fuelCapacityL: body.fuel_capacity_l ?? null,
        ...(body.report_interval_s !== undefined ? { reportIntervalS: body.report_interval_s } : {}),
        secretDigest: digest,
      });
      return { vehicle: presentRegistry(vehicle), mqtt: this.mqtt(vehicle.id, secret) };
    } catch (error) {
      // Ids are global (they are MQTT usernames): a taken id answers 409 without saying whose it is.
      if ((error as { code?: string }).code === '23505') throw new ApiError('vehicle_exists', `vehicle id ${body.id} is already taken`);
      throw error;
    }
  }

  async rotate(tenantId: string, id: string) {
    const vehicle = await this.vehicles.findById(id);
    if (!vehicle || vehicle.tenantId !== tenantId) throw new ApiError('not_found', `no vehicle ${id}`);
    const { secret, digest } = generateVehicleSecret();
    if (!(await this.vehicles.rotateSecret(id, digest))) throw new ApiError('not_found', `no vehicle ${id}`);
    this.credentialsRotated(id);
    const rotated = await this.vehicles.findById(id);
    return {
      vehicle_id: id,
      credentials_rotated_at: (rotated?.credentialsRotatedAt ?? new Date()).toISOString(),
      mqtt: this.mqtt(id, secret),
    };
  }

  private mqtt(id: string, password: string) {
    return { host: this.options.mqtt.host, port: this.options.mqtt.port, username: id, password, client_id: id };
  }
}
