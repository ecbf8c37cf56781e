/**
 * `@live-device-form/server`: the server SDK of live-device-form. WebSocket sessions with a
 * reconnect guard, revision checks and exactly one ack per write, bridged to devices.
 *
 * @example
 * import { createLiveDeviceServer } from '@live-device-form/server';
 * const live = createLiveDeviceServer({ devices: [bridge] });
 * live.attach(httpServer);
 *
 * Test doubles (`MemoryBridge`, `recordingLogger`) are in `@live-device-form/server/testing`.
 * @module
 */
export * from './bridge.js';
export type { CatalogEvent, DeviceCatalog } from './catalog.js';
export { consoleLogger, silentLogger } from './logger.js';
export type { LogFn, Logger, LogLevel } from './logger.js';
export { LOG_THROTTLE_DEFAULTS, throttleLogger } from './log-throttle.js';
export type { LogThrottleOptions, ThrottledLogger } from './log-throttle.js';
export { DeviceDescriptionError, ServerErrorCode } from './errors.js';
export type { CodedTypeError } from './errors.js';
export { createLiveDeviceServer } from './server.js';
export type { LiveDeviceServer, LiveDeviceServerEvents, Protection, SessionCloseInfo } from './server.js';
export type { DrainOptions, DrainReport } from './drain.js';
export { HealthState, healthHandler, healthResponse } from './health.js';
export type { HealthReport, HealthResponse, HealthSource } from './health.js';
export { DEFAULTS, FLOOD_FACTOR } from './options.js';
export type {
  AuthorizeGrant,
  AuthorizeHook,
  AuthorizeResult,
  ConnectionLimits,
  LiveDeviceServerOptions,
  RateLimit,
} from './options.js';
export type { ReadyReport } from './readiness.js';
export type { TokenThrottleOptions } from './token-throttle.js';
export { SessionState } from './session.js';
export type { ServerStats, SessionInfo } from './session.js';
export { DEVICE_STORE_DEFAULTS, DeviceStore } from './store.js';
export type { DeviceStoreOptions, StoreAvailability, StoreChange, StoreEvent, WriteAwaitingEcho } from './store.js';
export { defineDevice, loadDeviceFile, parseDeviceDescription, toFieldSchemas, topicKind } from './device/index.js';
export type {
  ActionFieldDescription,
  AvailabilityDescription,
  AvailabilityListDescription,
  BooleanFieldDescription,
  CustomTopicDescription,
  CustomWrite,
  DeviceDescription,
  EnumFieldDescription,
  EnumOptionDescription,
  FieldDescription,
  JsonTopicDescription,
  NumberFieldDescription,
  ParseDeviceResult,
  PatternTopicDescription,
  TextFieldDescription,
  TopicDescription,
  TopicKind,
} from './device/index.js';
export {
  createDeviceCodec,
  createTopicCodec,
  parseJsonPointer,
  parsePattern,
  separatorsOf,
  MAX_STATUS_PAYLOAD_BYTES,
} from './codecs/index.js';
export type { DecodeResult, DeviceCodec, EncodeResult, PatternPart, TopicCodec } from './codecs/index.js';
export { createMqttBridge, LinkState, MQTT_BRIDGE_DEFAULTS } from './mqtt-bridge.js';
export type { MqttBridge, MqttBridgeOptions } from './mqtt-bridge.js';
export { EMBEDDED_BROKER_DEFAULTS, startEmbeddedBroker } from './embedded-broker.js';
export type { EmbeddedBroker, EmbeddedBrokerOptions } from './embedded-broker.js';
export {
  createDiscovery,
  DISCOVERY_DEFAULTS,
  HOME_ASSISTANT_DEFAULTS,
  homeAssistant,
  HOMIE_DEFAULTS,
  homie,
  ZIGBEE2MQTT_DEFAULTS,
  zigbee2mqtt,
  compileTemplate,
  TemplateError,
} from './discovery/index.js';
export type {
  CompiledTemplate,
  CompileResult,
  DeviceChange,
  DeviceSource,
  DeviceSourceContext,
  DeviceSourceFactory,
  DiscoveredDeviceInfo,
  Discovery,
  DiscoveryEvents,
  DiscoveryOptions,
  HomeAssistantOptions,
  HomieOptions,
  TemplateVariables,
  Zigbee2mqttOptions,
} from './discovery/index.js';
