// /mesh describe through Slack against the sandbox's demo mesh: the cart pod in `shop` has a
// VirtualService with a header match and weights, DestinationRule subsets with traffic policies, a
// port-level PeerAuthentication and an ALLOW AuthorizationPolicy; everything must be in one answer.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseDescribeTarget } from '../../src/features/describe/describe.ts';
import { UserError } from '../../src/errors.ts';
import { ALICE, type MtlsBot, slash, startMtlsBot, text } from '../mtls/bot.ts';

let bot: MtlsBot;

beforeAll(async () => {
  bot = await startMtlsBot();
});

afterAll(async () => {
  await bot?.close();
});

describe('/mesh describe', () => {
  it('describes a pod by its Deployment: routes, subsets, mTLS per port, authorization, sidecar', async () => {
    const msg = await slash(bot, 'describe cart-v1 -n shop', ALICE);
    const t = text(msg);
    const pod = bot.sb.store
      .list('Pod', 'shop')
      .find((p) => p.metadata.labels?.app === 'cart' && p.metadata.labels?.version === 'v1')!;
    expect(t).toContain(`Pod shop/${pod.metadata.name}`);
    // Services and the protocol Istio assumes per port.
    expect(t).toContain('8080 → pod port 8080 (http): HTTP, from port name http');
    expect(t).toContain('9090 → pod port 9090 (grpc-admin): GRPC, from port name grpc-admin');
    // The VirtualService's rules in words; the route that reaches this pod is marked.
    expect(t).toContain('VirtualService shop/cart');
    expect(t).toContain('HTTP route beta-testers: header x-beta is true → cart subset v2 (100%)');
    expect(t).toContain('→ HTTP route default: everything → cart subset v1 (90%), cart subset v2 (10%)');
    // The DestinationRule, the subset this pod falls into, and the traffic policy.
    expect(t).toContain('subset this falls into: `v1` · other subsets: v2');
    expect(t).toContain('load balancer LEAST_REQUEST');
    expect(t).toContain('outlier detection');
    // Effective PeerAuthentication per port, with the deciding object.
    expect(t).toContain("port 8080: *PERMISSIVE*, decided by Istio's default");
    expect(t).toContain('port 9090: *STRICT*, decided by PeerAuthentication shop/cart-admin-port (port-level)');
    // Ports not listed take the workload-wide mode, said as such: no line contradicts another.
    expect(t).toContain("any other port: *PERMISSIVE*, decided by Istio's default");
    expect(t).not.toContain('Workload mode');
    // AuthorizationPolicies and what they mean together.
    expect(t).toContain('*ALLOW* shop/cart-from-frontend (workload)');
    expect(t).toContain('An ALLOW policy exists (shop/cart-from-frontend), so anything it does not match is denied.');
    expect(t).toContain('A request no policy matches is *denied*');
    // Sidecar: injection, version, scope, proxy settings from the annotation.
    expect(t).toContain('namespace label istio-injection=enabled');
    expect(t).toContain('Version: 1.24.2');
    expect(t).toContain('holdApplicationUntilProxyStarts: true (annotation proxy.istio.io/config)');
    expect(msg.blocks!.length).toBeLessThanOrEqual(50);
  });

  it('describes a pod named as <pod>.<namespace>, and a pod without a sidecar with its warning', async () => {
    const pod = bot.sb.store.list('Pod', 'legacy').find((p) => p.metadata.labels?.app === 'batch-report')!;
    const msg = await slash(bot, `describe pod ${pod.metadata.name}.legacy`);
    expect(text(msg)).toContain(`Pod legacy/${pod.metadata.name}`);
    expect(text(msg)).toContain('pod has no Istio sidecar');
    expect(text(msg)).toContain('*no sidecar*');
  });

  it('describes a service', async () => {
    const msg = await slash(bot, 'describe service cart.shop');
    const t = text(msg);
    expect(t).toContain('Service shop/cart');
    expect(t).toContain('2 pods, 2 with a ready sidecar');
    expect(t).toContain('subsets this falls into: `v1`, `v2`');
    expect(t).toContain('*ALLOW* shop/cart-from-frontend');
  });

  it('answers a name that does not exist with close names, and a missing service with the ones there are', async () => {
    const wrong = await slash(bot, 'describe cart-v3 -n shop');
    expect(text(wrong)).toContain('No workload named cart-v3 in namespace shop');
    expect(text(wrong)).toContain('cart-v1.shop');
    const svc = await slash(bot, 'describe service carts.shop');
    expect(text(svc)).toContain('There is no Service `carts` in namespace `shop`');
    expect(text(svc)).toContain('`cart`');
  });

  it('parses what people type', () => {
    expect(parseDescribeTarget(['service', 'reviews.bookinfo'], undefined)).toEqual({
      kind: 'service',
      name: 'reviews',
      namespace: 'bookinfo',
    });
    expect(parseDescribeTarget(['svc/reviews'], 'bookinfo')).toEqual({
      kind: 'service',
      name: 'reviews',
      namespace: 'bookinfo',
    });
    expect(parseDescribeTarget(['app=reviews'], 'bookinfo')).toEqual({
      kind: 'workload',
      ref: { kind: 'label', key: 'app', value: 'reviews', namespace: 'bookinfo' },
    });
    expect(parseDescribeTarget(['pod', 'reviews-v1-abc.bookinfo'], undefined)).toEqual({
      kind: 'workload',
      ref: { kind: 'pod', name: 'reviews-v1-abc', namespace: 'bookinfo' },
    });
    expect(() => parseDescribeTarget(['service', 'reviews'], undefined)).toThrow(/Which namespace/);
    expect(() => parseDescribeTarget([], undefined)).toThrow(UserError);
  });
});
