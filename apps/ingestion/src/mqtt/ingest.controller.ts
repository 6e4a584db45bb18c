// The ingest handler of the MQTT transport: hands each raw message to the pipeline (which decodes it) and returns its
// admission/commit promises, which the transport turns into "read on" and "PUBACK".
import { Controller } from '@nestjs/common';
import { EventPattern, Payload } from '@nestjs/microservices';
import { IngestionPipeline, type IngestMessage } from '../pipeline/ingestion-pipeline.js';
import { INGEST_PATTERN, type IngestAdmission } from './mqtt-ingest.server.js';

@Controller()
export class IngestController {
  constructor(private readonly pipeline: IngestionPipeline) {}

  @EventPattern(INGEST_PATTERN)
  ingest(@Payload() message: IngestMessage): IngestAdmission {
    return this.pipeline.submit(message);
  }
}
