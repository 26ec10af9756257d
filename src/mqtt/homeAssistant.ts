// The battery plan as Home Assistant MQTT-discovery sensors: retained config messages under
// <discoveryPrefix>/sensor/<nodeId>/<object>/config, and retained states under <baseTopic>/<nodeId>/<object>/state.
// Pure functions: the messages are built here and sent by ./publish.ts.
import type { MqttConfig } from '../config/mqtt.js';
import type { Plan, PlanNow } from '../store/plan.js';

export interface MqttMessage {
  topic: string;
  payload: string;
}

interface SensorSpec {
  object: string;
  name: string;
  icon: string;
  unit?: string;
  deviceClass?: string;
  stateClass?: string;
  options?: string[];
  state: (plan: Plan, now: PlanNow) => string | number | null | undefined;
}

const ACTIONS = ['charge', 'discharge', 'idle'];

/** The five sensors: what the battery should do now, what next, and what the plan saves. */
export const SENSORS: SensorSpec[] = [
  {
    object: 'setpoint',
    name: 'Battery setpoint',
    icon: 'mdi:battery-charging',
    unit: 'kW',
    deviceClass: 'power',
    stateClass: 'measurement',
    state: (_p, n) => n.now?.power_kw,
  },
  {
    object: 'mode',
    name: 'Battery mode',
    icon: 'mdi:battery-sync',
    deviceClass: 'enum',
    options: ['setpoint', 'self_consumption'],
    state: (_p, n) => n.now?.mode,
  },
  {
    object: 'soc_target',
    name: 'Battery SoC target',
    icon: 'mdi:battery-arrow-up',
    unit: '%',
    deviceClass: 'battery',
    stateClass: 'measurement',
    state: (_p, n) => (n.now?.soc_pct == null ? null : Math.round(n.now.soc_pct * 10) / 10),
  },
  {
    object: 'next_action',
    name: 'Battery next-hour action',
    icon: 'mdi:battery-clock',
    deviceClass: 'enum',
    options: ACTIONS,
    state: (_p, n) => n.next?.action,
  },
  {
    object: 'expected_saving',
    name: 'Battery plan expected saving',
    icon: 'mdi:cash-plus',
    unit: 'EUR',
    deviceClass: 'monetary',
    state: (p) => p.expected_saving_eur,
  },
];

export function stateTopic(cfg: MqttConfig, object: string): string {
  return `${cfg.baseTopic}/${cfg.nodeId}/${object}/state`;
}

export function attributesTopic(cfg: MqttConfig): string {
  return `${cfg.baseTopic}/${cfg.nodeId}/plan/attributes`;
}

export function discoveryTopic(cfg: MqttConfig, object: string): string {
  return `${cfg.discoveryPrefix}/sensor/${cfg.nodeId}/${object}/config`;
}

/** The retained discovery configs (Home Assistant creates the device and its sensors from these). */
export function discoveryMessages(cfg: MqttConfig): MqttMessage[] {
  const device = { identifiers: [cfg.nodeId], name: 'Home battery plan', manufacturer: 'home-energy-ai', model: 'battery planner' };
  return SENSORS.map((s) => ({
    topic: discoveryTopic(cfg, s.object),
    payload: JSON.stringify({
      name: s.name,
      unique_id: `${cfg.nodeId}_${s.object}`,
      object_id: `${cfg.nodeId}_${s.object}`,
      state_topic: stateTopic(cfg, s.object),
      json_attributes_topic: attributesTopic(cfg),
      icon: s.icon,
      ...(s.unit ? { unit_of_measurement: s.unit } : {}),
      ...(s.deviceClass ? { device_class: s.deviceClass } : {}),
      ...(s.stateClass ? { state_class: s.stateClass } : {}),
      ...(s.options ? { options: s.options } : {}),
      device,
      origin: { name: 'home-energy-ai' },
    }),
  }));
}

/**
 * The states after a plan: one per sensor (Home Assistant reads "None" as unknown, e.g. before the plan's
 * first hour), and the plan's header as the sensors' attributes.
 */
export function stateMessages(cfg: MqttConfig, plan: Plan, now: PlanNow): MqttMessage[] {
  const states = SENSORS.map((s) => {
    const value = s.state(plan, now);
    return { topic: stateTopic(cfg, s.object), payload: value === null || value === undefined ? 'None' : String(value) };
  });
  const attributes = {
    issued_at: plan.issued_at,
    controller: plan.controller,
    soc_source: plan.soc_source,
    plan_start: plan.start,
    plan_end: plan.end,
    expected_saving_eur: plan.expected_saving_eur,
    expected_saving_eur_per_month: plan.expected_saving_eur_per_month,
    hour: now.now?.ts ?? null,
    why: now.now?.why ?? null,
    next_why: now.next?.why ?? null,
  };
  return [...states, { topic: attributesTopic(cfg), payload: JSON.stringify(attributes) }];
}
