import type { FeatureDeclaration } from '@tiergraph/runtime';
import { effectiveFeatures, percentOf, summarize, usageByCode, usageMetrics } from './feature-summary';

const declare = (code: string, featureType: FeatureDeclaration['featureType']): FeatureDeclaration => ({
  code,
  name: code,
  description: '',
  category: 'limits',
  featureType,
  scope: 'MERCHANT',
  unit: featureType === 'QUANTITATIVE' ? 'things' : null,
  displayOrder: 0,
});

describe('effective features', () => {
  const tier = [
    { featureCode: 'max_products', limitValue: 200, enabled: true },
    { featureCode: 'api_access', limitValue: null, enabled: true },
    { featureCode: 'max_orders_per_month', limitValue: 100, enabled: true },
  ];

  it('takes the override over the tier, and null with enabled as unlimited', () => {
    const features = effectiveFeatures(tier, [{ featureCode: 'max_products', limitValue: null, enabled: true }, { featureCode: 'api_access', limitValue: null, enabled: false }], true);
    expect(features.get('max_products')).toEqual({ enabled: true, limit: null, isOverride: true });
    expect(features.get('api_access')).toEqual({ enabled: false, limit: 0, isOverride: true });
    expect(features.get('max_orders_per_month')).toEqual({ enabled: true, limit: 100, isOverride: false });
  });

  it('grants nothing, overrides included, when the subscription is not active', () => {
    const features = effectiveFeatures(tier, [{ featureCode: 'white_label', limitValue: null, enabled: true }], false);
    expect([...features.keys()]).toEqual([]);
  });
});

describe('summary and usage meters', () => {
  const declarations = [declare('max_products', 'QUANTITATIVE'), declare('max_orders_per_month', 'QUANTITATIVE'), declare('api_access', 'BINARY'), declare('max_storage_mb', 'QUANTITATIVE')];
  const features = effectiveFeatures(
    [
      { featureCode: 'max_products', limitValue: 200, enabled: true },
      { featureCode: 'max_orders_per_month', limitValue: null, enabled: true },
      { featureCode: 'api_access', limitValue: null, enabled: true },
    ],
    [],
    true,
  );
  const usage = usageByCode([{ code: 'max_products', current: 170 }], [{ code: 'max_orders_per_month', current: 5000 }], undefined);
  const summary = summarize(declarations, features, usage);

  it('computes remaining and percentage, unlimited as null, binary without numbers, undeclared-in-tier as limit 0', () => {
    expect(summary.map(({ code, enabled, limit, current, remaining, percentUsed }) => ({ code, enabled, limit, current, remaining, percentUsed }))).toEqual([
      { code: 'max_products', enabled: true, limit: 200, current: 170, remaining: 30, percentUsed: 85 },
      { code: 'max_orders_per_month', enabled: true, limit: null, current: 5000, remaining: null, percentUsed: null },
      { code: 'api_access', enabled: true, limit: null, current: null, remaining: null, percentUsed: null },
      { code: 'max_storage_mb', enabled: false, limit: 0, current: 0, remaining: 0, percentUsed: 100 },
    ]);
  });

  it('marks meters approaching at 80 % and at limit at 100 %, capped, unlimited never', () => {
    const meters = usageMetrics(summary);
    expect(meters.map(({ code, percentage, isUnlimited, isAtLimit, isApproachingLimit }) => ({ code, percentage, isUnlimited, isAtLimit, isApproachingLimit }))).toEqual([
      { code: 'max_products', percentage: 85, isUnlimited: false, isAtLimit: false, isApproachingLimit: true },
      { code: 'max_orders_per_month', percentage: 0, isUnlimited: true, isAtLimit: false, isApproachingLimit: false },
      { code: 'max_storage_mb', percentage: 100, isUnlimited: false, isAtLimit: true, isApproachingLimit: true },
    ]);
    expect(percentOf(250, 200)).toBe(100);
    expect(percentOf(1, 3)).toBe(33.33);
  });

  it('an unknown count (its contributor failed) nulls that feature’s usage only; its limit and the others stand', () => {
    const unknown = new Map([['max_orders_per_month', 'the orders service did not contribute its count']]);
    const degraded = summarize(declarations, features, usageByCode([{ code: 'max_products', current: 170 }]), unknown);
    expect(degraded.find((f) => f.code === 'max_orders_per_month')).toMatchObject({
      enabled: true, limit: null, current: null, remaining: null, percentUsed: null, usageKnown: false, usageUnavailableReason: 'the orders service did not contribute its count',
    });
    for (const f of degraded.filter((f) => f.code !== 'max_orders_per_month')) {
      expect(f).toEqual(summary.find((s) => s.code === f.code));
      expect(f).toMatchObject({ usageKnown: true, usageUnavailableReason: null });
    }
    const meters = usageMetrics(degraded);
    expect(meters.find((m) => m.code === 'max_orders_per_month')).toEqual({
      code: 'max_orders_per_month', name: 'max_orders_per_month', current: 0, limit: null, percentage: 0, isUnlimited: true, isAtLimit: false, isApproachingLimit: false,
      usageKnown: false, usageUnavailableReason: 'the orders service did not contribute its count',
    });
    expect(meters.find((m) => m.code === 'max_products')).toMatchObject({ current: 170, percentage: 85, usageKnown: true, usageUnavailableReason: null });
  });
});
