import { describe, expect, it } from '@jest/globals';
import {
  configStatusOf,
  formatStatus,
  humanDuration,
  renderStatusTable,
  splitProxyId,
  TYPE_URL,
} from '../../src/istio/proxy-status.ts';
import { parseSyncz, proxyStatusFromSyncz } from '../../src/istio/syncz.ts';

describe('configStatusOf (istiod statusgen rule)', () => {
  it('puts a last error before everything else', () => {
    expect(configStatusOf({ sent: 'a', acked: 'a', lastError: 'NACK' })).toBe('ERROR');
  });
  it('NOT_SENT when nothing was sent, SYNCED when acked == sent, STALE otherwise', () => {
    expect(configStatusOf({})).toBe('NOT_SENT');
    expect(configStatusOf({ sent: 'b', acked: 'b' })).toBe('SYNCED');
    expect(configStatusOf({ sent: 'b', acked: 'a' })).toBe('STALE');
    expect(configStatusOf({ sent: 'b' })).toBe('STALE');
  });
});

describe('humanDuration (k8s HumanDuration)', () => {
  it.each([
    [-5000, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [119_000, '119s'],
    [120_000, '2m'],
    [252_000, '4m12s'],
    [15 * 60_000, '15m'],
    [3 * 3600_000 + 5 * 60_000, '3h5m'],
    [10 * 3600_000, '10h'],
    [52 * 3600_000, '2d4h'],
    [30 * 86400_000, '30d'],
    [800 * 86400_000, '2y70d'],
    [3000 * 86400_000, '8y'],
  ])('%d ms → %s', (ms, want) => {
    expect(humanDuration(ms)).toBe(want);
  });
});

describe('formatStatus', () => {
  const now = new Date('2026-11-25T12:04:00Z');
  it('adds the age of the last push to SYNCED/STALE/ERROR, never to NOT SENT or IGNORED', () => {
    expect(formatStatus({ typeUrl: TYPE_URL.LDS, status: 'STALE', lastUpdated: '2026-11-25T12:00:00Z' }, now)).toBe(
      'STALE (4m)',
    );
    expect(formatStatus({ typeUrl: TYPE_URL.LDS, status: 'NOT_SENT', lastUpdated: '2026-11-25T12:00:00Z' }, now)).toBe(
      'NOT SENT',
    );
    expect(formatStatus({ typeUrl: TYPE_URL.LDS, status: 'UNKNOWN' }, now)).toBe('IGNORED');
    expect(formatStatus({ typeUrl: TYPE_URL.LDS, status: 'SYNCED' }, now)).toBe('SYNCED');
  });
});

describe('proxyStatusFromSyncz (HTTP shape)', () => {
  const answer = parseSyncz([
    {
      proxy: 'reviews-v1-5d8f7b9c4-x2k9p.bookinfo',
      proxy_type: 'sidecar',
      cluster_id: 'Kubernetes',
      istio_version: '1.24.2',
      cluster_sent: 'c2',
      cluster_acked: 'c2',
      listener_sent: 'l2',
      listener_acked: 'l1',
      resources: {
        [TYPE_URL.LDS]: { sent: 'l2', acked: 'l1', sentTime: '2026-11-25T12:00:00Z' },
        [TYPE_URL.CDS]: {
          sent: 'c2',
          acked: 'c2',
          sentTime: '2026-11-25T12:00:00Z',
          lastError: 'Error adding/updating cluster(s) x: y',
        },
        [TYPE_URL.RDS]: { sentTime: '0001-01-01T00:00:00Z' },
      },
    },
    { proxy: 'old.default', cluster_sent: 'a', cluster_acked: 'a', proxy_version: '1.8.0' },
  ]);
  const rows = proxyStatusFromSyncz('istiod-abc', answer);

  it('uses the resources map: statuses by istiod rule, zero sentTime dropped, sorted by type URL', () => {
    expect(rows[0]).toMatchObject({
      pod: 'reviews-v1-5d8f7b9c4-x2k9p',
      namespace: 'bookinfo',
      istiod: 'istiod-abc',
      proxyType: 'sidecar',
    });
    expect(rows[0]!.xds.map((x) => [x.typeUrl, x.status, x.lastUpdated])).toEqual([
      [TYPE_URL.CDS, 'ERROR', '2026-11-25T12:00:00Z'],
      [TYPE_URL.LDS, 'STALE', '2026-11-25T12:00:00Z'],
      [TYPE_URL.RDS, 'NOT_SENT', undefined],
    ]);
    expect(rows[0]!.xds[0]!.lastError).toBe('Error adding/updating cluster(s) x: y');
  });

  it('falls back to the legacy nonce fields, and to the starred proxy version', () => {
    expect(rows[1]!.istioVersion).toBe('1.8.0*');
    expect(rows[1]!.xds.find((x) => x.typeUrl === TYPE_URL.CDS)?.status).toBe('SYNCED');
    expect(rows[1]!.xds.find((x) => x.typeUrl === TYPE_URL.LDS)?.status).toBe('NOT_SENT');
  });

  it('renders the verbose table with ages', () => {
    const text = renderStatusTable(rows.slice(0, 1), { verbosity: 1, now: new Date('2026-11-25T12:04:00Z') });
    expect(text.split('\n')[1]).toMatch(
      /^reviews-v1-5d8f7b9c4-x2k9p\.bookinfo\s+Kubernetes\s+ERROR \(4m\)\s+IGNORED\s+IGNORED\s+STALE \(4m\)\s+NOT SENT\s+istiod-abc\s+1\.24\.2$/,
    );
  });

  it('rejects an answer that is not a list of sync statuses', () => {
    expect(() => parseSyncz({ proxies: [] })).toThrow(/syncz/);
    expect(() => parseSyncz([{ cluster_id: 'x' }])).toThrow(/0\.proxy/);
  });

  it('splits proxy IDs at the last dot (pod names may hold dots, namespaces may not)', () => {
    expect(splitProxyId('a.b.c')).toEqual({ pod: 'a.b', namespace: 'c' });
  });
});
