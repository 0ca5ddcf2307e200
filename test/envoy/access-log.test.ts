// Access-log parsing in Istio's two default formats, checked against the formats themselves
// (../shared/conformance/istio/accesslog), and what counts as a failure after a STRICT change.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { TEXT_FORMAT_KEYS, failureOf, parseAccessLog, parseAccessLogLine } from '../../src/envoy/access-log.ts';
import { accessLogLine } from '../../src/sandbox/traffic-model.ts';
import { conformanceDir, describeWithShared } from '../support/shared.ts';

// Written for these tests in the default TEXT layout: an inbound request, a plaintext connection
// refused under STRICT, an outbound 503 after a reset, and a TLS failure toward an upstream.
const ok =
  '[2026-11-25T18:00:00.123Z] "GET /reviews/0 HTTP/1.1" 200 - via_upstream - "-" 0 295 4 3 "-" "Go-http-client/1.1" "5f0c7a1e-0000-4000-8000-000000000001" "reviews:9080" "10.244.1.9:9080" inbound|9080|| 127.0.0.6:41021 10.244.1.9:9080 10.244.1.4:52170 outbound_.9080_.v1_.reviews.bookinfo.svc.cluster.local default';
const refused =
  '[2026-11-25T18:00:01.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.9:9080 10.244.2.17:40112 - -';
const reset =
  '[2026-11-25T18:00:02.000Z] "POST /api/orders HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 120 95 2 - "-" "curl/8.5.0" "5f0c7a1e-0000-4000-8000-000000000002" "orders.shop.svc.cluster.local:8080" "10.244.3.3:8080" outbound|8080||orders.shop.svc.cluster.local 10.244.1.4:39000 10.96.0.20:8080 10.244.1.4:38998 - default';
const tlsFailure =
  '[2026-11-25T18:00:03.000Z] "GET / HTTP/1.1" 503 UF,URX upstream_reset_before_response_started{connection_failure,TLS_error:_WRONG_VERSION_NUMBER} - "TLS_error:_WRONG_VERSION_NUMBER" 0 190 5 - "-" "curl/8.5.0" "5f0c7a1e-0000-4000-8000-000000000003" "legacy.example:443" "10.244.4.4:443" outbound|443||legacy.example - 10.96.0.30:443 10.244.1.4:50000 - -';

describe('parseAccessLogLine (TEXT)', () => {
  it('reads every field of a request line', () => {
    const e = parseAccessLogLine(ok)!;
    expect(e).toMatchObject({
      format: 'text',
      method: 'GET',
      path: '/reviews/0',
      protocol: 'HTTP/1.1',
      responseCode: 200,
      responseFlags: [],
      responseCodeDetails: 'via_upstream',
      authority: 'reviews:9080',
      upstreamHost: '10.244.1.9:9080',
      upstreamCluster: 'inbound|9080||',
      downstreamLocalAddress: '10.244.1.9:9080',
      downstreamRemoteAddress: '10.244.1.4:52170',
      requestedServerName: 'outbound_.9080_.v1_.reviews.bookinfo.svc.cluster.local',
    });
    expect(e.startTime?.toISOString()).toBe('2026-11-25T18:00:00.123Z');
    expect(e.upstreamTransportFailureReason).toBeUndefined();
    expect(failureOf(e)).toBeUndefined();
  });

  it('reads a refused plaintext connection as a connection failure', () => {
    const e = parseAccessLogLine(refused)!;
    expect(e).toMatchObject({
      responseCode: 0,
      responseFlags: ['NR'],
      responseCodeDetails: 'filter_chain_not_found',
      downstreamRemoteAddress: '10.244.2.17:40112',
    });
    expect(e.method).toBeUndefined();
    expect(failureOf(e)).toEqual({ kind: 'connection', what: 'connection NR filter_chain_not_found' });
  });

  it('reads 503s with reset and TLS failure flags and reasons', () => {
    expect(failureOf(parseAccessLogLine(reset)!)).toEqual({
      kind: 'unavailable',
      what: '503 UC upstream_reset_before_response_started{connection_termination}',
    });
    const tls = parseAccessLogLine(tlsFailure)!;
    expect(tls.responseFlags).toEqual(['UF', 'URX']);
    expect(tls.upstreamTransportFailureReason).toBe('TLS_error:_WRONG_VERSION_NUMBER');
    expect(failureOf(tls)?.kind).toBe('unavailable');
  });

  it('a 404 for an unknown route (NR with a route) is not a connection failure; a 403 is a failure', () => {
    const noRoute = ok.replace('" 200 - via_upstream', '" 404 NR route_not_found');
    expect(failureOf(parseAccessLogLine(noRoute)!)).toBeUndefined();
    expect(
      failureOf(
        parseAccessLogLine(ok.replace('" 200 - via_upstream', '" 403 - rbac_access_denied_matched_policy[none]'))!,
      ),
    ).toEqual({ kind: 'forbidden', what: '403 rbac_access_denied_matched_policy[none]' });
  });

  it('skips lines that are not access-log lines', () => {
    expect(
      parseAccessLog(
        [
          '2026-11-25T18:00:00.000000Z\tinfo\tEnvoy proxy is ready',
          ok,
          '',
          '[broken',
          refused,
          '{"level":"info"}',
        ].join('\n'),
      ),
    ).toHaveLength(2);
    expect(parseAccessLogLine('[2026-11-25T18:00:00Z] "GET / HTTP/1.1" 200')).toBeUndefined();
  });
});

describe('parseAccessLogLine (JSON)', () => {
  it('reads the JSON encoding, numbers or strings, null or "-" for empty', () => {
    const e = parseAccessLogLine(
      JSON.stringify({
        start_time: '2026-11-25T18:00:01.000Z',
        response_code: 0,
        response_flags: 'NR',
        response_code_details: 'filter_chain_not_found',
        upstream_transport_failure_reason: null,
        downstream_remote_address: '10.244.2.17:40112',
        method: '-',
        upstream_cluster: null,
      }),
    )!;
    expect(e).toMatchObject({
      format: 'json',
      responseCode: 0,
      responseFlags: ['NR'],
      downstreamRemoteAddress: '10.244.2.17:40112',
    });
    expect(e.method).toBeUndefined();
    expect(failureOf(e)?.kind).toBe('connection');
    expect(
      parseAccessLogLine(
        '{"response_code":"503","response_flags":"UF,URX","upstream_transport_failure_reason":"TLS_error"}',
      )?.responseCode,
    ).toBe(503);
  });
});

describe('the sandbox writes what the parser reads', () => {
  const fields = {
    start_time: '2026-11-25T18:00:00.000Z',
    method: 'GET',
    path: '/x',
    protocol: 'HTTP/1.1',
    response_code: 503,
    response_flags: 'UC',
    response_code_details: 'upstream_reset_before_response_started{connection_termination}',
    upstream_cluster: 'outbound|8080||cart.shop.svc.cluster.local',
    downstream_remote_address: '10.0.0.1:1',
  };
  for (const enc of ['TEXT', 'JSON'] as const) {
    it(`${enc} round trip`, () => {
      const e = parseAccessLogLine(accessLogLine(fields, enc))!;
      expect(e).toMatchObject({
        method: 'GET',
        path: '/x',
        responseCode: 503,
        responseFlags: ['UC'],
        upstreamCluster: 'outbound|8080||cart.shop.svc.cluster.local',
        downstreamRemoteAddress: '10.0.0.1:1',
      });
    });
  }
});

describeWithShared("Istio's default access-log formats", () => {
  const dir = join(conformanceDir, 'istio', 'accesslog');
  const json = z
    .record(z.string(), z.string())
    .parse(JSON.parse(readFileSync(join(dir, 'default-json-format.json'), 'utf8')));
  const text = readFileSync(join(dir, 'default-text-format.txt'), 'utf8');

  it('our TEXT field order is EnvoyTextLogFormat, named by the JSON format keys', () => {
    const operatorToKey = new Map(Object.entries(json).map(([k, op]) => [op, k]));
    const operators = [...text.matchAll(/%[A-Z_]+(?:\([^)]*\))?%/g)].map((m) => m[0]);
    expect(operators.map((op) => operatorToKey.get(op))).toEqual([...TEXT_FORMAT_KEYS]);
    expect(Object.keys(json).sort()).toEqual([...TEXT_FORMAT_KEYS].sort());
  });

  it('a line rendered from the TEXT format with every operator filled parses back to the same values', () => {
    const values: Record<string, string> = {
      '%START_TIME%': '2026-11-25T18:00:00.000Z',
      '%REQ(:METHOD)%': 'GET',
      '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%': '/p',
      '%PROTOCOL%': 'HTTP/2',
      '%RESPONSE_CODE%': '503',
      '%RESPONSE_FLAGS%': 'UF,URX',
      '%RESPONSE_CODE_DETAILS%': 'upstream_reset_before_response_started{connection_failure}',
      '%CONNECTION_TERMINATION_DETAILS%': '-',
      '%UPSTREAM_TRANSPORT_FAILURE_REASON%': 'TLS_error:_CERTIFICATE_VERIFY_FAILED',
      '%UPSTREAM_CLUSTER_RAW%': 'outbound|9080||reviews.bookinfo.svc.cluster.local',
      '%DOWNSTREAM_REMOTE_ADDRESS%': '10.1.1.1:5555',
      '%REQ(USER-AGENT)%': 'agent with spaces/1.0',
    };
    const line = text.trim().replace(/%[A-Z_]+(?:\([^)]*\))?%/g, (op) => values[op] ?? '-');
    const e = parseAccessLogLine(line)!;
    expect(e).toMatchObject({
      method: 'GET',
      path: '/p',
      protocol: 'HTTP/2',
      responseCode: 503,
      responseFlags: ['UF', 'URX'],
      upstreamTransportFailureReason: 'TLS_error:_CERTIFICATE_VERIFY_FAILED',
      upstreamCluster: 'outbound|9080||reviews.bookinfo.svc.cluster.local',
      downstreamRemoteAddress: '10.1.1.1:5555',
    });
    expect(e.startTime?.toISOString()).toBe('2026-11-25T18:00:00.000Z');
  });
});
