import { EnvError, parseEnv } from '@tiergraph/runtime';
import { billingEnvSchema, billingSettingsOf } from './env';

describe('billing environment', () => {
  it('reports a bad shared variable and bad billing variables together', () => {
    let problems: string[] = [];
    try {
      parseEnv(billingEnvSchema, { DATABASE_URL: 'not a url', STRIPE_TRIAL_DAYS: 'many', USAGE_LATE_GRACE_HOURS: '-1' });
    } catch (error) {
      problems = (error as EnvError).problems;
    }
    expect(problems.join('\n')).toMatch(/DATABASE_URL/);
    expect(problems.join('\n')).toMatch(/STRIPE_TRIAL_DAYS/);
    expect(problems.join('\n')).toMatch(/USAGE_LATE_GRACE_HOURS/);
  });

  it('gives the settings of a good environment, with defaults', () => {
    const settings = billingSettingsOf(parseEnv(billingEnvSchema, { DATABASE_URL: 'postgres://localhost/tiergraph', STRIPE_SECRET_KEY: 'sk_test_1' }));
    expect(settings.env.PORT).toBe(4001);
    expect(settings.stripe).toMatchObject({ secretKey: 'sk_test_1', trialDays: 30 });
    expect(settings.usage).toEqual({ lateGraceHours: 24 });
  });
});
