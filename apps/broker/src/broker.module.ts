// Nest module of the broker: BrokerService plus the ports it is given (registry, ingestion, vehicle_state).
import { type DynamicModule, type InjectionToken, Module, type ModuleMetadata, type OptionalFactoryDependency } from '@nestjs/common';
import { BROKER_DEPS, type BrokerDeps, BrokerService } from './broker.service.js';

export interface BrokerModuleAsyncOptions {
  imports?: ModuleMetadata['imports'];
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useFactory: (...args: any[]) => BrokerDeps | Promise<BrokerDeps>;
}

@Module({})
export class BrokerModule {
  static forRoot(deps: BrokerDeps): DynamicModule {
    return { module: BrokerModule, providers: [{ provide: BROKER_DEPS, useValue: deps }, BrokerService], exports: [BrokerService] };
  }

  /** For the process that wires the real ports: e.g. inject the db module's repositories and the ingestion sink. */
  static forRootAsync(options: BrokerModuleAsyncOptions): DynamicModule {
    return {
      module: BrokerModule,
      imports: options.imports ?? [],
      providers: [{ provide: BROKER_DEPS, useFactory: options.useFactory, inject: options.inject ?? [] }, BrokerService],
      exports: [BrokerService],
    };
  }
}
