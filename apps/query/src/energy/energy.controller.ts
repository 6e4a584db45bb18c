// /api/v1/energy: energy use of the tenant's fleet over a time range, per group.
import { Controller, Get, Inject, Query } from '@nestjs/common';
import { Caller, type Principal } from '../auth/principal.js';
import { Endpoint } from '../common/endpoint.js';
import { EnergyAnswer, EnergyQuery } from './energy.schema.js';
import { EnergyService } from './energy.service.js';

@Controller('api/v1/energy')
export class EnergyController {
  constructor(@Inject(EnergyService) private readonly energy: EnergyService) {}

  @Get()
  @Endpoint({
    tag: 'energy',
    summary: 'Energy use in [from, to) per vehicle, type, body type, powertrain or day: counters, per-100-km figures, body share, kWh-equivalent and CO2',
    description:
      'Exact for any range: whole UTC months come from the energy_monthly rollup (not for group_by=day), whole UTC days from energy_daily, the other whole hours from energy_hourly, whole 10-minute buckets from energy_10min, and at most 5 minutes at either end from the raw samples with the same rule. ' +
      'kWh-equivalent = grid electricity charged + hydrogen × LHV + diesel × LHV; CO2 = charged × grid factor + diesel × diesel factor + hydrogen × hydrogen factor. The factors used are part of the answer.',
    access: 'operator',
    query: EnergyQuery,
    responses: { 200: EnergyAnswer },
  })
  report(@Caller() caller: Principal, @Query() q: EnergyQuery) {
    return this.energy.report(caller.tenantId, q);
  }
}
