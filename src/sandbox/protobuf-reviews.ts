// kubectl's typed clients send some bodies as Kubernetes protobuf (`kubectl auth can-i` posts its
// SelfSubjectAccessReview that way). The sandbox answers in JSON (kubectl accepts it) and decodes just
// the access-review messages: the `k8s\0` envelope (runtime.Unknown) and the review's spec fields.

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
    } else if (wire === 1) {
      out.push({ no, wire, value: buf.subarray(pos, pos + 8) });
      pos += 8;
    } else if (wire === 5) {
      out.push({ no, wire, value: buf.subarray(pos, pos + 4) });
      pos += 4;
    } else {
      throw new Error(`unsupported wire type ${wire}`);
    }
  }
  return out;
}

function bytesOf(fs: Field[], no: number): Buffer | undefined {
  const f = fs.find((x) => x.no === no && x.wire === 2);
  return f ? (f.value as Buffer) : undefined;
}

function str(fs: Field[], no: number): string | undefined {
  return bytesOf(fs, no)?.toString('utf8');
}

function strs(fs: Field[], no: number): string[] {
  return fs.filter((x) => x.no === no && x.wire === 2).map((x) => (x.value as Buffer).toString('utf8'));
}

const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

export function isKubeProtobuf(body: Buffer): boolean {
  return body.length >= 4 && body.subarray(0, 4).equals(MAGIC);
}

function compact<T extends Record<string, unknown>>(o: T): T {
  for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Decode a protobuf (Self|Local)SubjectAccessReview into the JSON shape the API serves.
 * Throws on anything else.
 */
export function decodeAccessReview(body: Buffer): Record<string, unknown> {
  const unknown = fields(body.subarray(4));
  const typeMeta = fields(bytesOf(unknown, 1) ?? Buffer.alloc(0));
  const apiVersion = str(typeMeta, 1) ?? '';
  const kind = str(typeMeta, 2) ?? '';
  if (!/^(Self|Local)?SubjectAccessReview$/.test(kind)) throw new Error(`protobuf ${kind || 'object'} is not supported by the sandbox; send JSON`);
  const review = fields(bytesOf(unknown, 2) ?? Buffer.alloc(0));
  const spec = fields(bytesOf(review, 2) ?? Buffer.alloc(0));
  const ra = bytesOf(spec, 1);
  const nra = bytesOf(spec, 2);
  const out: Record<string, unknown> = {};
  if (ra) {
    const f = fields(ra);
    out.resourceAttributes = compact({ namespace: str(f, 1), verb: str(f, 2), group: str(f, 3), version: str(f, 4), resource: str(f, 5), subresource: str(f, 6), name: str(f, 7) });
  }
  if (nra) {
    const f = fields(nra);
    out.nonResourceAttributes = compact({ path: str(f, 1), verb: str(f, 2) });
  }
  if (kind !== 'SelfSubjectAccessReview') {
    const user = str(spec, 3);
    if (user !== undefined) out.user = user;
    const groups = strs(spec, 4);
    if (groups.length) out.groups = groups;
  }
  return { apiVersion, kind, metadata: {}, spec: out };
}
