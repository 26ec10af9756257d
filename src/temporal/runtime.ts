import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { TemporalPinoLogger, isDebug, type Logger } from '../logging.js';

let installed = false;

/**
 * Routes the SDK's and Temporal core's logs into pino, and serves the runtime's metrics to Prometheus
 * when an address is given. Must run before any Worker or NativeConnection is created.
 */
export function installRuntime(logger: Logger, options: { metricsAddress?: string } = {}): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new TemporalPinoLogger(logger.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: {
        forward: {},
        filter: makeTelemetryFilterString({ core: isDebug() ? 'INFO' : 'WARN', other: 'ERROR' }),
      },
      ...(options.metricsAddress ? { metrics: { prometheus: { bindAddress: options.metricsAddress } } } : {}),
    },
  });
}
