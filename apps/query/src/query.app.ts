// Builds the query HTTP application on Fastify; main.ts (distributed) and the embedded launcher both use it.
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import type { Logger } from '@fleet/config';
import { QueryModule, type QueryModuleOptions } from './query.module.js';

export async function createQueryApp(options: QueryModuleOptions & { logger: Logger }): Promise<NestFastifyApplication> {
  const app = await NestFactory.create<NestFastifyApplication>(QueryModule.register(options), new FastifyAdapter(), {
    logger: false,
  });
  app.enableShutdownHooks();
  return app;
}
