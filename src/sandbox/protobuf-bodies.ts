// kubectl's typed clients send some request bodies as Kubernetes protobuf (`kubectl auth can-i`,
// `kubectl create rolebinding|namespace|configmap|secret|serviceaccount|role...`). The sandbox answers
// in JSON (kubectl accepts it) and decodes the `k8s\0` envelope (runtime.Unknown) plus the handful of
// message types those commands send, from their field numbers in k8s.io/api's generated.proto.

type FieldType =
  | 'string'
  | 'bytes'
  | 'int'
  | 'bool'
  | { msg: Schema }
  | { repeated: FieldType }
  | { map: 'string' | 'bytes' };
type Schema = Record<number, [string, FieldType]>;

const str = 'string' as const;
const list = (t: FieldType): FieldType => ({ repeated: t });
const msg = (s: Schema): FieldType => ({ msg: s });

const ownerReference: Schema = {
  1: ['kind', str],
  3: ['name', str],
  4: ['uid', str],
  5: ['apiVersion', str],
  6: ['controller', 'bool'],
  7: ['blockOwnerDeletion', 'bool'],
};
const objectMeta: Schema = {
  1: ['name', str],
  2: ['generateName', str],
  3: ['namespace', str],
  5: ['uid', str],
  6: ['resourceVersion', str],
  7: ['generation', 'int'],
  11: ['labels', { map: 'string' }],
  12: ['annotations', { map: 'string' }],
  13: ['ownerReferences', list(msg(ownerReference))],
  14: ['finalizers', list(str)],
};
const resourceAttributes: Schema = {
  1: ['namespace', str],
  2: ['verb', str],
  3: ['group', str],
  4: ['version', str],
  5: ['resource', str],
  6: ['subresource', str],
  7: ['name', str],
};
const nonResourceAttributes: Schema = { 1: ['path', str], 2: ['verb', str] };
const selfReviewSpec: Schema = {
  1: ['resourceAttributes', msg(resourceAttributes)],
  2: ['nonResourceAttributes', msg(nonResourceAttributes)],
};
const reviewSpec: Schema = { ...selfReviewSpec, 3: ['user', str], 4: ['groups', list(str)], 6: ['uid', str] };
const subject: Schema = { 1: ['kind', str], 2: ['apiGroup', str], 3: ['name', str], 4: ['namespace', str] };
const roleRef: Schema = { 1: ['apiGroup', str], 2: ['kind', str], 3: ['name', str] };
const policyRule: Schema = {
  1: ['verbs', list(str)],
  2: ['apiGroups', list(str)],
  3: ['resources', list(str)],
  4: ['resourceNames', list(str)],
  5: ['nonResourceURLs', list(str)],
};
const labelSelector: Schema = { 1: ['matchLabels', { map: 'string' }] };
const localObjectReference: Schema = { 1: ['name', str] };

const KINDS: Record<string, Schema> = {
  SelfSubjectAccessReview: { 1: ['metadata', msg(objectMeta)], 2: ['spec', msg(selfReviewSpec)] },
  SubjectAccessReview: { 1: ['metadata', msg(objectMeta)], 2: ['spec', msg(reviewSpec)] },
  SelfSubjectRulesReview: { 1: ['metadata', msg(objectMeta)], 2: ['spec', msg({ 1: ['namespace', str] })] },
  LocalSubjectAccessReview: { 1: ['metadata', msg(objectMeta)], 2: ['spec', msg(reviewSpec)] },
  RoleBinding: { 1: ['metadata', msg(objectMeta)], 2: ['subjects', list(msg(subject))], 3: ['roleRef', msg(roleRef)] },
  ClusterRoleBinding: {
    1: ['metadata', msg(objectMeta)],
    2: ['subjects', list(msg(subject))],
    3: ['roleRef', msg(roleRef)],
  },
  Role: { 1: ['metadata', msg(objectMeta)], 2: ['rules', list(msg(policyRule))] },
  ClusterRole: {
    1: ['metadata', msg(objectMeta)],
    2: ['rules', list(msg(policyRule))],
    3: ['aggregationRule', msg({ 1: ['clusterRoleSelectors', list(msg(labelSelector))] })],
  },
  Namespace: { 1: ['metadata', msg(objectMeta)] },
  ConfigMap: {
    1: ['metadata', msg(objectMeta)],
    2: ['data', { map: 'string' }],
    3: ['binaryData', { map: 'bytes' }],
    4: ['immutable', 'bool'],
  },
  Secret: {
    1: ['metadata', msg(objectMeta)],
    2: ['data', { map: 'bytes' }],
    3: ['type', str],
    4: ['stringData', { map: 'string' }],
    5: ['immutable', 'bool'],
  },
  ServiceAccount: {
    1: ['metadata', msg(objectMeta)],
    2: ['secrets', list(msg(localObjectReference))],
    3: ['imagePullSecrets', list(msg(localObjectReference))],
    4: ['automountServiceAccountToken', 'bool'],
  },
};

interface Field {
  no: number;
  wire: number;
  value: bigint | Buffer;
}

function readVarint(buf: Buffer, pos: number): [bigint, number] {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated varint');
    const b = buf[pos++] as number;
    result |= BigInt(b & 0x7f) << shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7n;
  }
}

function fields(buf: Buffer): Field[] {
  const out: Field[] = [];
  let pos = 0;
  while (pos < buf.length) {
    const [key, p1] = readVarint(buf, pos);
    pos = p1;
    const no = Number(key >> 3n);
    const wire = Number(key & 7n);
    if (wire === 0) {
      const [v, p2] = readVarint(buf, pos);
      pos = p2;
      out.push({ no, wire, value: v });
    } else if (wire === 2) {
      const [len, p2] = readVarint(buf, pos);
      const end = p2 + Number(len);
      if (end > buf.length) throw new Error('truncated field');
      out.push({ no, wire, value: buf.subarray(p2, end) });
      pos = end;
    } else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      out.push({ no, wire, value: buf.subarray(pos, pos + size) });
      pos += size;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function scalar(t: FieldType, f: Field): unknown {
  if (t === 'string') return (f.value as Buffer).toString('utf8');
  if (t === 'bytes') return (f.value as Buffer).toString('base64');
  if (t === 'int') return Number(f.value as bigint);
  if (t === 'bool') return (f.value as bigint) !== 0n;
  if (typeof t === 'object' && 'msg' in t) return decodeMessage(f.value as Buffer, t.msg);
  throw new Error('unexpected field type');
}

function decodeMessage(buf: Buffer, schema: Schema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const f of fields(buf)) {
    const entry = schema[f.no];
    if (!entry) continue;
    const [name, type] = entry;
    if (typeof type === 'object' && 'repeated' in type) {
      const arr = (out[name] as unknown[] | undefined) ?? [];
      arr.push(scalar(type.repeated, f));
      out[name] = arr;
    } else if (typeof type === 'object' && 'map' in type) {
      const kv = fields(f.value as Buffer);
      const k = kv.find((x) => x.no === 1);
      const v = kv.find((x) => x.no === 2);
      const map = (out[name] as Record<string, unknown> | undefined) ?? {};
      map[k ? (k.value as Buffer).toString('utf8') : ''] = v ? scalar(type.map, v) : type.map === 'bytes' ? '' : '';
      out[name] = map;
    } else {
      out[name] = scalar(type, f);
    }
  }
  return out;
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

/** Decode a `k8s\0`-prefixed protobuf body into the JSON object it stands for. Throws for unsupported kinds. */
export function decodeKubeProtobuf(body: Buffer): Record<string, unknown> {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw new Error('not a Kubernetes protobuf envelope');
  const unknown = fields(body.subarray(4));
  const typeMetaBuf = unknown.find((f) => f.no === 1 && f.wire === 2)?.value as Buffer | undefined;
  const raw = unknown.find((f) => f.no === 2 && f.wire === 2)?.value as Buffer | undefined;
  const typeMeta = typeMetaBuf ? decodeMessage(typeMetaBuf, { 1: ['apiVersion', str], 2: ['kind', str] }) : {};
  const kind = String(typeMeta.kind ?? '');
  const schema = KINDS[kind];
  if (!schema) throw new Error(`protobuf ${kind || 'object'} is not supported by the sandbox; send JSON`);
  return { apiVersion: typeMeta.apiVersion, kind, ...decodeMessage(raw ?? Buffer.alloc(0), schema) };
}
