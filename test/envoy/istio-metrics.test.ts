import { describe, expect, it } from '@jest/globals';
import {
  counterIncrease,
  MetricsParseError,
  parsePrometheusText,
  plaintextCallers,
} from '../../src/envoy/istio-metrics.ts';

// What a destination sidecar's merged :15020/stats/prometheus shows for reviews-v1: one caller
// with mTLS, one plaintext caller without a sidecar (unknown workload), one with a sidecar that
// still sent plaintext, source-reported series (ignored), and TCP connections in plaintext.
const scrape = String.raw`# HELP istio_requests_total Total requests.
# TYPE istio_requests_total counter
istio_requests_total{reporter="destination",source_workload="productpage-v1",source_workload_namespace="bookinfo",source_principal="spiffe://cluster.local/ns/bookinfo/sa/productpage",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",response_code="200",connection_security_policy="mutual_tls"} 1520
istio_requests_total{reporter="destination",source_workload="unknown",source_workload_namespace="unknown",source_principal="unknown",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",response_code="200",connection_security_policy="none"} 40
istio_requests_total{reporter="destination",source_workload="unknown",source_workload_namespace="unknown",source_principal="unknown",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",response_code="503",connection_security_policy="none"} 2 1732550000000
istio_requests_total{reporter="destination",source_workload="batch-job",source_workload_namespace="jobs",source_principal="unknown",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",response_code="200",connection_security_policy="none"} 7
istio_requests_total{reporter="source",source_workload="reviews-v1",source_workload_namespace="bookinfo",destination_workload="ratings-v1",destination_workload_namespace="bookinfo",response_code="200",connection_security_policy="unknown"} 99
istio_requests_total{reporter="destination",source_workload="idle",source_workload_namespace="jobs",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",response_code="200",connection_security_policy="none"} 0
# TYPE istio_tcp_connections_opened_total counter
istio_tcp_connections_opened_total{reporter="destination",source_workload="unknown",source_workload_namespace="unknown",source_principal="unknown",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",connection_security_policy="none"} 3
envoy_cluster_upstream_cx_total{cluster_name="xds-grpc"} 4
`;

describe('parsePrometheusText', () => {
  it('reads names, labels, values and skips comments and timestamps', () => {
    const samples = parsePrometheusText(scrape);
    expect(samples).toHaveLength(8);
    expect(samples[2]).toMatchObject({ name: 'istio_requests_total', value: 2, labels: { response_code: '503' } });
    expect(samples[7]).toEqual({
      name: 'envoy_cluster_upstream_cx_total',
      labels: { cluster_name: 'xds-grpc' },
      value: 4,
    });
  });

  it('unescapes label values and reads special values', () => {
    const [a, b, c] = parsePrometheusText('m{path="/a\\"b\\\\c",x="1\\n2"} +Inf\nn NaN\no{} -3.5e2\n');
    expect(a).toEqual({ name: 'm', labels: { path: '/a"b\\c', x: '1\n2' }, value: Infinity });
    expect(Number.isNaN(b!.value)).toBe(true);
    expect(c).toEqual({ name: 'o', labels: {}, value: -350 });
  });

  it('refuses malformed lines with the line number', () => {
    expect(() => parsePrometheusText('ok 1\nbad{a="x} 1\n')).toThrow(MetricsParseError);
    expect(() => parsePrometheusText('ok 1\nbad{a="x} 1\n')).toThrow(/^line 2: unterminated label value/);
    expect(() => parsePrometheusText('m{a="1"} twelve')).toThrow(/not a number/);
  });
});

describe('plaintextCallers', () => {
  it('counts destination-reported plaintext requests per caller, by response code', () => {
    const callers = plaintextCallers(scrape);
    expect(callers).toEqual([
      {
        source: 'unknown (no sidecar)',
        sourceWorkload: undefined,
        sourceNamespace: undefined,
        sourcePrincipal: undefined,
        destinationWorkload: 'reviews-v1',
        destinationNamespace: 'bookinfo',
        hasSidecar: false,
        requests: 42,
        byResponseCode: { '200': 40, '503': 2 },
        tcpConnections: 3,
      },
      {
        source: 'batch-job.jobs',
        sourceWorkload: 'batch-job',
        sourceNamespace: 'jobs',
        sourcePrincipal: undefined,
        destinationWorkload: 'reviews-v1',
        destinationNamespace: 'bookinfo',
        hasSidecar: true,
        requests: 7,
        byResponseCode: { '200': 7 },
        tcpConnections: 0,
      },
    ]);
  });

  it('accepts parsed samples (e.g. from a Prometheus query) and validates them', () => {
    const samples = parsePrometheusText(scrape);
    expect(plaintextCallers(samples).map((c) => c.source)).toEqual(['unknown (no sidecar)', 'batch-job.jobs']);
    expect(() => plaintextCallers([{ name: 'x', labels: {}, value: 'NaN' } as never])).toThrow();
  });

  it('no plaintext: no callers', () => {
    expect(
      plaintextCallers(
        scrape
          .split('\n')
          .filter((l) => !l.includes('"none"'))
          .join('\n'),
      ),
    ).toEqual([]);
  });

  it('recent callers: the increase between two scrapes, with counter resets and new series', () => {
    const before = parsePrometheusText(scrape);
    const later = scrape
      .replace(
        'response_code="503",connection_security_policy="none"} 2 1732550000000',
        'response_code="503",connection_security_policy="none"} 5',
      )
      .replace(
        'source_workload="batch-job",source_workload_namespace="jobs",source_principal="unknown",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",response_code="200",connection_security_policy="none"} 7',
        'source_workload="batch-job",source_workload_namespace="jobs",source_principal="unknown",destination_workload="reviews-v1",destination_workload_namespace="bookinfo",response_code="200",connection_security_policy="none"} 4',
      );
    const recent = plaintextCallers(counterIncrease(before, parsePrometheusText(later)));
    // unknown caller: 200s unchanged (0 new), 503s 2 -> 5 (3 new); batch-job restarted: 7 -> 4 means 4 new.
    expect(recent.map((c) => [c.source, c.requests, c.byResponseCode])).toEqual([
      ['batch-job.jobs', 4, { '200': 4 }],
      ['unknown (no sidecar)', 3, { '503': 3 }],
    ]);
  });
});
