// /api/v1/vehicles: registry + latest snapshot, provisioning (admin), credential rotation (admin), telemetry, events.
import { Body, Controller, Get, Header, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import { Endpoint } from '../common/endpoint.js';
import { VehicleIdParams } from '../common/schemas.js';
import { Caller, type Principal } from '../auth/principal.js';
import { VehicleHistoryService } from './vehicle-history.service.js';
import { presentVehicle } from './vehicle.presenter.js';
import {
  CreateVehicleBody,
  EventPageSchema,
  EventsQuery,
  ListVehiclesQuery,
  ProvisionedVehicleSchema,
  RotatedCredentialsSchema,
  TelemetryAnswerSchema,
  TelemetryQuery,
  VehicleListSchema,
  VehicleSchema,
} from './vehicles.schema.js';
import { VehiclesService } from './vehicles.service.js';

@Controller('api/v1/vehicles')
export class VehiclesController {
  constructor(
    @Inject(VehiclesService) private readonly vehicles: VehiclesService,
    @Inject(VehicleHistoryService) private readonly history: VehicleHistoryService,
  ) {}

  @Get()
  @Endpoint({ tag: 'vehicles', summary: 'List the vehicles of your tenant with their latest snapshot', access: 'operator', query: ListVehiclesQuery, responses: { 200: VehicleListSchema } })
  list(@Caller() caller: Principal, @Query() q: ListVehiclesQuery) {
    return this.vehicles.list(caller.tenantId, { type: q.type, bodyType: q.body_type, powertrain: q.powertrain }, q.limit, q.cursor);
  }

  @Post()
  @HttpCode(201)
  // The answer holds the vehicle's MQTT password, shown this once: no cache (a proxy's, a browser's) may keep it.
  @Header('cache-control', 'no-store')
  @Endpoint({
    tag: 'vehicles',
    summary: 'Provision a vehicle (admin); answers its MQTT credentials — the password only this once',
    access: 'admin',
    body: CreateVehicleBody,
    responses: { 201: ProvisionedVehicleSchema },
  })
  create(@Caller() caller: Principal, @Body() body: CreateVehicleBody) {
    return this.vehicles.provision(caller.tenantId, body);
  }

  @Get(':id')
  @Endpoint({ tag: 'vehicles', summary: 'One vehicle: registry and latest snapshot', access: 'operator', params: VehicleIdParams, responses: { 200: VehicleSchema } })
  async get(@Caller() caller: Principal, @Param('id') id: string) {
    return presentVehicle(await this.vehicles.get(caller.tenantId, id));
  }

  @Post(':id/credentials')
  @HttpCode(200)
  @Header('cache-control', 'no-store')
  @Endpoint({
    tag: 'vehicles',
    summary: 'Rotate the MQTT secret of a vehicle (admin); the old one stops working',
    access: 'admin',
    params: VehicleIdParams,
    responses: { 200: RotatedCredentialsSchema },
  })
  rotate(@Caller() caller: Principal, @Param('id') id: string) {
    return this.vehicles.rotate(caller.tenantId, id);
  }

  @Get(':id/telemetry')
  @Endpoint({
    tag: 'vehicles',
    summary: 'Raw samples in [from, to), or a bucketed series (avg/min/max/last per signal) with bucket=',
    access: 'operator',
    params: VehicleIdParams,
    query: TelemetryQuery,
    responses: { 200: TelemetryAnswerSchema },
  })
  telemetry(@Caller() caller: Principal, @Param('id') id: string, @Query() q: TelemetryQuery) {
    return this.history.telemetrySeries(caller.tenantId, id, q);
  }

  @Get(':id/events')
  @Endpoint({ tag: 'vehicles', summary: 'Events of a vehicle in [from, to), newest first', access: 'operator', params: VehicleIdParams, query: EventsQuery, responses: { 200: EventPageSchema } })
  events(@Caller() caller: Principal, @Param('id') id: string, @Query() q: EventsQuery) {
    return this.history.eventList(caller.tenantId, id, q);
  }
}
