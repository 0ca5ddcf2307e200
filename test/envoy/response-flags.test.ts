// The response-flag table: every flag Envoy defines (ResponseFlagUtils::ALL_RESPONSE_STRINGS_FLAGS in
// source/common/stream_info/utility.h, 28 at LastFlag == 27), short and long names as Envoy prints them,
// each with Envoy's meaning and Istio-specific advice; lookups by either name.
import { describe, expect, it } from '@jest/globals';
import { allResponseFlags, isFilterChainNotFound, responseFlag } from '../../src/envoy/response-flags.ts';

// Envoy's short and long strings, as in utility.h (read for this table; not the table's source of truth here,
// a second spelling to catch a typo in one of them).
const ENVOY: Record<string, string> = {
  LH: 'FailedLocalHealthCheck',
  UH: 'NoHealthyUpstream',
  UT: 'UpstreamRequestTimeout',
  LR: 'LocalReset',
  UR: 'UpstreamRemoteReset',
  UF: 'UpstreamConnectionFailure',
  UC: 'UpstreamConnectionTermination',
  UO: 'UpstreamOverflow',
  NR: 'NoRouteFound',
  DI: 'DelayInjected',
  FI: 'FaultInjected',
  RL: 'RateLimited',
  UAEX: 'UnauthorizedExternalService',
  RLSE: 'RateLimitServiceError',
  DC: 'DownstreamConnectionTermination',
  URX: 'UpstreamRetryLimitExceeded',
  SI: 'StreamIdleTimeout',
  IH: 'InvalidEnvoyRequestHeaders',
  DPE: 'DownstreamProtocolError',
  UMSDR: 'UpstreamMaxStreamDurationReached',
  RFCF: 'ResponseFromCacheFilter',
  NFCF: 'NoFilterConfigFound',
  DT: 'DurationTimeout',
  UPE: 'UpstreamProtocolError',
  NC: 'NoClusterFound',
  OM: 'OverloadManagerTerminated',
  DF: 'DnsResolutionFailed',
  DO: 'DropOverload',
};

describe('response flags', () => {
  it("has exactly Envoy's flags, with Envoy's long names", () => {
    const table = Object.fromEntries(allResponseFlags().map((f) => [f.short, f.long]));
    expect(table).toEqual(ENVOY);
  });

  it('explains each in Envoy terms and in Istio terms', () => {
    for (const f of allResponseFlags()) {
      expect(f.envoy.length).toBeGreaterThan(10);
      expect(f.istio.length).toBeGreaterThan(20);
      expect(f.istio).not.toBe(f.envoy);
    }
  });

  it('gives the Istio causes people need for the common ones', () => {
    expect(responseFlag('UH')?.istio).toMatch(/subset whose labels select no pod.*ejected by outlier detection/);
    expect(responseFlag('UF')?.istio).toMatch(/ISTIO_MUTUAL toward a pod without a sidecar/);
    expect(responseFlag('UF')?.istio).toMatch(/STRICT PeerAuthentication/);
    expect(responseFlag('NR')?.istio).toMatch(/no VirtualService or route.*filter_chain_not_found.*STRICT/);
    expect(responseFlag('NC')?.istio).toMatch(/subset that no DestinationRule defines/);
    expect(responseFlag('UO')?.istio).toMatch(/connectionPool/);
    expect(responseFlag('UAEX')?.istio).toMatch(/CUSTOM AuthorizationPolicy/);
  });

  it('finds a flag by short or long name in any case, and nothing for a made-up one', () => {
    expect(responseFlag('uh')?.short).toBe('UH');
    expect(responseFlag('NoHealthyUpstream')?.short).toBe('UH');
    expect(responseFlag('upstreamretrylimitexceeded')?.short).toBe('URX');
    expect(responseFlag('XYZ')).toBeUndefined();
    expect(responseFlag('-')).toBeUndefined();
  });

  it('tells filter_chain_not_found apart', () => {
    expect(isFilterChainNotFound('filter_chain_not_found')).toBe(true);
    expect(isFilterChainNotFound('route_not_found')).toBe(false);
    expect(isFilterChainNotFound(undefined)).toBe(false);
  });
});
