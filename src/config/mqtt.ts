import { z } from 'zod';
import { durationMs } from './duration.js';

/**
 * The plan published to the home over MQTT, in Home Assistant's discovery convention (src/mqtt/). Off while
 * `url` is unset.
 */
export const mqttSchema = z
  .object({
    /** mqtt://host:1883 or mqtts://host:8883; unset: nothing is published. */
    url: z
      .string()
      .regex(/^mqtts?:\/\/[^\s/]+(:\d+)?\/?$/, 'expected mqtt://host[:port] or mqtts://host[:port]')
      .optional(),
    username: z.string().min(1).optional(),
    password: z.string().min(1).optional(),
    /** Home Assistant's discovery prefix (its MQTT integration's setting). */
    discoveryPrefix: z
      .string()
      .regex(/^[^#+\s]+$/, 'no spaces or MQTT wildcards')
      .default('homeassistant'),
    /** Where the states go: <baseTopic>/<nodeId>/<sensor>. */
    baseTopic: z
      .string()
      .regex(/^[^#+\s]+$/, 'no spaces or MQTT wildcards')
      .default('home-energy-ai'),
    /** The device's node id in the discovery topics (and in the sensors' unique ids). */
    nodeId: z
      .string()
      .regex(/^[a-zA-Z0-9_-]+$/, 'letters, digits, _ and - only')
      .default('hea_battery'),
    /** How long connecting and publishing may take. */
    timeout: durationMs.default(10_000),
  })
  .strict();

export type MqttConfig = z.output<typeof mqttSchema>;
