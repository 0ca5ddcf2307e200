// Settings errors stop start-up with one line that names the variable and says what it expects.
import { describe, expect, it } from '@jest/globals';
import { SettingsError, loadSettings } from '../src/config.ts';

function failure(env: Record<string, string>): SettingsError {
  try {
    loadSettings(env);
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error('expected a SettingsError');
}

const BOT = 'xoxb-1-2-abc';
const APP = 'xapp-1-A1-abc';
const SECRET = 'abcdef0123456789abcdef';

describe('loadSettings', () => {
  it.each([
    [{ SLACK_BOT_TOKEN: 'bad' }, 'SLACK_BOT_TOKEN', /xoxb-/],
    [{ SLACK_BOT_TOKEN: BOT, SLACK_MODE: 'http' }, 'SLACK_SIGNING_SECRET', /signing secret/],
    [{ SLACK_BOT_TOKEN: BOT, SLACK_MODE: 'socket' }, 'SLACK_APP_TOKEN', /xapp-/],
    [{ SLACK_APP_TOKEN: APP }, 'SLACK_BOT_TOKEN', /xoxb-/],
    [{ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SECRET, PORT: 'abc' }, 'PORT', /TCP port/],
    [{ SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: APP, SLACK_MODE: 'webhook' }, 'SLACK_MODE', /socket .* or http/],
    [{ SLACK_API_URL: 'ftp://slack.example' }, 'SLACK_API_URL', /http\(s\) URL/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /one of/],
    [{ MESHOPS_MAX_CONCURRENT_COMMANDS: '0' }, 'MESHOPS_MAX_CONCURRENT_COMMANDS', /at once, a whole number \(1-256\)/],
    [{ MESHOPS_MAX_CONCURRENT_COMMANDS: 'many' }, 'MESHOPS_MAX_CONCURRENT_COMMANDS', /whole number/],
    [{ MESHOPS_SHARED_ANSWER_MS: '90000' }, 'MESHOPS_SHARED_ANSWER_MS', /milliseconds .* \(0-60000\)/],
  ])('refuses %j naming %s', (env, variable, expected) => {
    const err = failure(env as Record<string, string>);
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toMatch(expected);
    expect(err.message).not.toContain('\n');
  });

  it('never quotes a secret back in the error', () => {
    const err = failure({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: 'short', SLACK_MODE: 'http' });
    expect(err.variable).toBe('SLACK_SIGNING_SECRET');
    expect(err.message).not.toContain('short');
  });

  it('reads Socket Mode by default and HTTP mode with its port', () => {
    expect(
      loadSettings({ SLACK_BOT_TOKEN: BOT, SLACK_APP_TOKEN: APP, SLACK_API_URL: 'http://127.0.0.1:9/api/' }).slack,
    ).toEqual({
      mode: 'socket',
      botToken: BOT,
      appToken: APP,
      signingSecret: undefined,
      apiUrl: 'http://127.0.0.1:9/api/',
    });
    expect(loadSettings({ SLACK_BOT_TOKEN: BOT, SLACK_SIGNING_SECRET: SECRET, PORT: '8443' }).slack).toMatchObject({
      mode: 'http',
      port: 8443,
    });
    expect(loadSettings({}).slack).toBeUndefined();
  });

  it('bounds the cluster commands running at once (default 8); finished answers are not reused by default', () => {
    expect(loadSettings({})).toMatchObject({ maxConcurrentCommands: 8, sharedAnswerMs: 0 });
    expect(loadSettings({ MESHOPS_MAX_CONCURRENT_COMMANDS: ' 16 ', MESHOPS_SHARED_ANSWER_MS: '3000' })).toMatchObject({
      maxConcurrentCommands: 16,
      sharedAnswerMs: 3000,
    });
  });

  it('gives answers in flight 20 s after SIGTERM by default, bounded 1 s to 10 min', () => {
    expect(loadSettings({}).shutdownGraceMs).toBe(20_000);
    expect(loadSettings({ MESHOPS_SHUTDOWN_GRACE_MS: '5000' }).shutdownGraceMs).toBe(5000);
    expect(() => loadSettings({ MESHOPS_SHUTDOWN_GRACE_MS: '10' })).toThrow(/MESHOPS_SHUTDOWN_GRACE_MS/);
    expect(() => loadSettings({ MESHOPS_SHUTDOWN_GRACE_MS: 'soon' })).toThrow(/MESHOPS_SHUTDOWN_GRACE_MS/);
  });

  it('reads commands from the watch cache by default; false or 0 turns it off; anything else is refused', () => {
    expect(loadSettings({}).watchCache).toBe(true);
    expect(loadSettings({ MESHOPS_WATCH_CACHE: 'true' }).watchCache).toBe(true);
    expect(loadSettings({ MESHOPS_WATCH_CACHE: 'false' }).watchCache).toBe(false);
    expect(loadSettings({ MESHOPS_WATCH_CACHE: '0' }).watchCache).toBe(false);
    expect(() => loadSettings({ MESHOPS_WATCH_CACHE: 'maybe' })).toThrow(/MESHOPS_WATCH_CACHE/);
  });
});
