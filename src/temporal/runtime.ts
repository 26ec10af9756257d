import { Runtime, makeTelemetryFilterString } from '@temporalio/worker';
import { TemporalPinoLogger, isDebug, type Logger } from '../logging.js';

let installed = false;

/** Routes the SDK's and Temporal core's logs into pino. Must run before any Worker or NativeConnection. */
export function installRuntime(logger: Logger): void {
  if (installed) return;
  installed = true;
  Runtime.install({
    logger: new TemporalPinoLogger(logger.child({ component: 'temporal' })),
    telemetryOptions: {
      logging: {
        forward: {},
        filter: makeTelemetryFilterString({ core: isDebug() ? 'INFO' : 'WARN', other: 'ERROR' }),
      },
    },
  });
}
