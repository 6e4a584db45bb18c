// The MQTT contract of SPEC §3: topics, payload schemas, validation with stable rejection reasons.
export {};
