import { connectAsync } from 'mqtt';
import type { MqttConfig } from '../config/mqtt.js';
import type { MqttMessage } from './homeAssistant.js';

/** Sends the messages retained with QoS 1 (each acknowledged by the broker) and disconnects. */
export async function publishRetained(cfg: MqttConfig & { url: string }, messages: MqttMessage[]): Promise<void> {
  const client = await connectAsync(cfg.url, {
    username: cfg.username,
    password: cfg.password,
    connectTimeout: cfg.timeout,
    reconnectPeriod: 0,
    clientId: `hea-plan-${process.pid}-${Date.now().toString(36)}`,
  });
  try {
    const deadline = AbortSignal.timeout(cfg.timeout);
    const sent = Promise.all(messages.map((m) => client.publishAsync(m.topic, m.payload, { qos: 1, retain: true })));
    await Promise.race([sent, new Promise((_, reject) => deadline.addEventListener('abort', () => reject(new Error(`MQTT publish to ${cfg.url} timed out`))))]);
  } finally {
    await client.endAsync(true).catch(() => undefined);
  }
}
