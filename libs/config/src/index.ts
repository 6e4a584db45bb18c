// Configuration of every specfleet process: the validated environment and the shared logger.
export { ConfigSchema, type Config } from './config.schema.js';
export { ConfigError, describeListenError, loadConfig, loadConfigOrExit } from './config.js';
export { createLogger, type Logger } from './logger.js';
export { type MetricsServer, type MetricsSource, serveMetrics } from './metrics-server.js';
