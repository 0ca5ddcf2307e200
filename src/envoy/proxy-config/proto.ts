// Reading Envoy's admin JSON the way protojson does: a field may be spelled with its proto name
// (`dynamic_active_clusters`, what Envoy writes) or its JSON name (`dynamicActiveClusters`, what Go's
// jsonpb writes and some saved dumps hold); both are accepted, the proto name first. Map and Struct
// keys are data and are never rewritten. Wrapper types (UInt32Value, BoolValue) are plain JSON
// values; 64-bit integers may come as strings.

export type JsonObject = Record<string, unknown>;

export function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** `dynamic_active_clusters` → `dynamicActiveClusters` (protoc's JSON name rule). */
export function jsonName(protoName: string): string {
  return protoName.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** The field `protoName` (snake_case) under either spelling, or undefined. */
export function field(o: unknown, protoName: string): unknown {
  if (!isObject(o)) return undefined;
  if (o[protoName] !== undefined) return o[protoName];
  const alt = jsonName(protoName);
  return alt === protoName ? undefined : o[alt];
}

export function obj(o: unknown, protoName: string): JsonObject | undefined {
  const v = field(o, protoName);
  return isObject(v) ? v : undefined;
}

export function arr(o: unknown, protoName: string): unknown[] {
  const v = field(o, protoName);
  return Array.isArray(v) ? v : [];
}

export function str(o: unknown, protoName: string): string {
  const v = field(o, protoName);
  return typeof v === 'string' ? v : '';
}

/** A number field; proto3 JSON may quote 64-bit values. 0 when absent. */
export function num(o: unknown, protoName: string): number {
  const v = field(o, protoName);
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

export function has(o: unknown, protoName: string): boolean {
  return field(o, protoName) !== undefined;
}

/** A google.protobuf.Any's type URL. */
export function typeUrl(o: unknown): string {
  return isObject(o) && typeof o['@type'] === 'string' ? o['@type'] : '';
}

/** A google.protobuf.Struct value as a string (Go's GetStringValue: '' unless it is a string). */
export function structString(o: unknown, key: string): string {
  if (!isObject(o)) return '';
  const v = o[key];
  return typeof v === 'string' ? v : '';
}
