// Counts that read naturally (issue 14, item 5): one helper instead of "pod(s)" in every renderer.
import { describe, expect, it } from '@jest/globals';
import { andMore, count, countRequests, plural, verb } from '../../src/blocks/count.ts';

describe('count', () => {
  it('one, many and none', () => {
    expect(count(1, 'pod')).toBe('1 pod');
    expect(count(2, 'pod')).toBe('2 pods');
    expect(count(0, 'pod')).toBe('0 pods');
  });

  it('English plurals, Kubernetes kinds and acronyms', () => {
    expect(count(2, 'proxy')).toBe('2 proxies');
    expect(count(1, 'proxy')).toBe('1 proxy');
    expect(count(1, 'AuthorizationPolicy')).toBe('1 AuthorizationPolicy');
    expect(count(3, 'AuthorizationPolicy')).toBe('3 AuthorizationPolicies');
    expect(count(2, 'VirtualService')).toBe('2 VirtualServices');
    expect(count(2, 'DestinationRule')).toBe('2 DestinationRules');
    expect(count(2, 'Gateway')).toBe('2 Gateways');
    expect(count(2, 'Ingress')).toBe('2 Ingresses');
    expect(count(2, 'address')).toBe('2 addresses');
    expect(count(2, 'CRD')).toBe('2 CRDs');
    expect(count(2, 'istiod')).toBe('2 istiods');
    expect(count(2, 'analysis')).toBe('2 analyses');
    expect(count(2, 'person')).toBe('2 people');
  });

  it('changes the last word of a phrase', () => {
    expect(count(2, 'HTTP route')).toBe('2 HTTP routes');
    expect(count(1, 'HTTP route')).toBe('1 HTTP route');
    expect(count(4, 'proxy log')).toBe('4 proxy logs');
    expect(count(2, 'TCP connection')).toBe('2 TCP connections');
    expect(count(3, 'more line')).toBe('3 more lines');
    expect(count(2, 'istiod pod')).toBe('2 istiod pods');
  });

  it('takes the plural when the rule does not fit', () => {
    expect(count(2, 'pod', 'pods of it')).toBe('2 pods of it');
    expect(plural(1, 'series', 'series')).toBe('series');
    expect(plural(2, 'series', 'series')).toBe('series');
  });

  it('verbs agree', () => {
    expect(`${count(1, 'proxy')} ${verb(1, 'is')} STALE`).toBe('1 proxy is STALE');
    expect(`${count(2, 'proxy')} ${verb(2, 'is')} STALE`).toBe('2 proxies are STALE');
    expect(verb(2, 'has')).toBe('have');
    expect(verb(2, 'keeps')).toBe('keep');
    expect(verb(1, 'keeps')).toBe('keeps');
    expect(verb(2, 'does')).toBe('do');
  });
});

describe('countRequests', () => {
  it('says when all requests had one code', () => {
    expect(countRequests(252, { '200': 252 })).toBe('252 requests (all 200)');
    expect(countRequests(1, { '503': 1 })).toBe('1 request (503)');
  });
  it('lists codes, most first', () => {
    expect(countRequests(300, { '503': 50, '200': 250 })).toBe('300 requests (250 × 200, 50 × 503)');
  });
  it('without codes, only the count', () => {
    expect(countRequests(5)).toBe('5 requests');
    expect(countRequests(1, {})).toBe('1 request');
  });
});

describe('andMore', () => {
  it('says how many are not shown', () => {
    expect(andMore(['a', 'b', 'c'], 2)).toBe('a, b and 1 more');
    expect(andMore(['a', 'b'], 2)).toBe('a, b');
    expect(andMore(['a', 'b', 'c'], 0)).toBe('3 more');
    expect(andMore(['a', 'b', 'c', 'd'], 1, { where: 'in the thread as `pods.txt`' })).toBe(
      'a and 3 more in the thread as `pods.txt`',
    );
  });
});
