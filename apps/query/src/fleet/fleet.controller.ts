// /api/v1/fleet: what an operator looks at first — who is online, who is unhealthy and why.
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { Caller, type Principal } from '../auth/principal.js';
import { Endpoint } from '../common/endpoint.js';
import { FleetHealthAnswer, FleetHealthQuery, FleetStatusAnswer, FleetStatusQuery } from './fleet.schema.js';
import { FleetService } from './fleet.service.js';

@Controller('api/v1/fleet')
export class FleetController {
  constructor(@Inject(FleetService) private readonly fleet: FleetService) {}

  @Get('status')
  @Endpoint({
    tag: 'fleet',
    summary: 'One entry per vehicle (connectivity, last seen, state, position, energy level, alarms, DTCs) plus counts per connectivity',
    access: 'operator',
    query: FleetStatusQuery,
    responses: { 200: FleetStatusAnswer },
  })
  status(@Caller() caller: Principal, @Query() q: FleetStatusQuery) {
    return this.fleet.status(caller.tenantId, q);
  }

  @Get('health')
  @Endpoint({
    tag: 'fleet',
    summary: 'Counts by connectivity, active alarms by level and code, top DTCs, battery / energy / offline warnings, and a grade per vehicle with its reasons',
    access: 'operator',
    query: FleetHealthQuery,
    responses: { 200: FleetHealthAnswer },
  })
  health(@Caller() caller: Principal, @Query() q: FleetHealthQuery) {
    return this.fleet.health(caller.tenantId, q);
  }
}
