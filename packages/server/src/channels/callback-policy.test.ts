import type { LookupAddress } from 'node:dns';
import { describe, expect, it } from 'vitest';
import { callbackAllowEntryProblem, createCallbackPolicy } from './callback-policy.js';

describe('createCallbackPolicy', () => {
  const policy = createCallbackPolicy({ allow: ['https://hooks.example.com', 'https://*.partner.io:*', 'http://127.0.0.1:4000', 'https://[::1]'], allowAddresses: ['10.20.0.0/16'] });

  it.each([
    ['https://hooks.example.com/signoff', undefined],
    ['https://hooks.example.com:443/x', undefined],
    ['https://a.b.partner.io:8443/x', undefined],
    ['http://127.0.0.1:4000/hook', undefined],
    ['https://[::1]/hook', undefined],
    ['http://hooks.example.com/x', 'not in webhooks.callback_allow'],
    ['https://hooks.example.com:8443/x', 'not in webhooks.callback_allow'],
    ['https://partner.io/x', 'not in webhooks.callback_allow'],
    ['https://evil.com/x?https://hooks.example.com', 'not in webhooks.callback_allow'],
    ['https://hooks.example.com.evil.com/x', 'not in webhooks.callback_allow'],
    ['http://127.0.0.1:8787/admin/reset', 'not in webhooks.callback_allow'],
    ['http://169.254.169.254/latest/meta-data/', 'not in webhooks.callback_allow'],
    ['https://user:pass@hooks.example.com/x', 'must not carry credentials'],
  ])('%s → %s', (url, problem) => {
    if (problem === undefined) expect(policy.problem(url)).toBeUndefined();
    else expect(policy.problem(url)).toContain(problem);
  });

  it('refuses internal addresses, also when allow-listed by a wildcard, unless listed explicitly', () => {
    const wide = createCallbackPolicy({ allow: ['http://*.internal.test:*', 'http://10.0.0.5:*'] });
    for (const address of ['127.0.0.1', '10.1.2.3', '172.16.0.1', '192.168.1.1', '169.254.169.254', '100.64.0.1', '0.0.0.0', '::1', 'fe80::1', 'fd00:ec2::254', '::ffff:127.0.0.1', '::ffff:7f00:1', '64:ff9b::a9fe:a9fe']) {
      expect(wide.allowsAddress(address), address).toBe(false);
    }
    for (const address of ['93.184.216.34', '2606:2800:220:1:248:1893:25c8:1946', '::ffff:93.184.216.34']) expect(wide.allowsAddress(address), address).toBe(true);
    expect(wide.allowsAddress('10.0.0.5')).toBe(true);
    expect(policy.allowsAddress('10.20.3.4')).toBe(true);
    expect(wide.problem('http://10.0.0.5:9000/x')).toBeUndefined();
  });

  it('checks the address a hostname resolves to when the socket connects (DNS rebinding)', async () => {
    const strict = createCallbackPolicy({ allow: ['http://*.example.com'] });
    const lookup = (host: string) =>
      new Promise<{ error: NodeJS.ErrnoException | null; address: string | LookupAddress[] }>((resolve) =>
        strict.lookup(host, { all: true }, (error, address) => resolve({ error, address: address as string | LookupAddress[] })),
      );
    const local = await lookup('localhost');
    expect(local.error?.message).toMatch(/localhost resolves to .*an address callbacks may not reach/);
    expect((local.error as { code?: string }).code).toBe('CALLBACK_ADDRESS_REFUSED');
    // The operator listed loopback explicitly: then it resolves.
    const listed = await new Promise<NodeJS.ErrnoException | null>((resolve) => policy.lookup('localhost', { all: true }, (error) => resolve(error)));
    expect(listed).toBeNull();
  });

  it('validates allow-list entries for the config', () => {
    expect(callbackAllowEntryProblem('https://*.example.com')).toBeUndefined();
    expect(callbackAllowEntryProblem('https://example.com/path')).toContain('expected an origin');
    expect(callbackAllowEntryProblem('ftp://example.com')).toContain('expected an origin');
    expect(callbackAllowEntryProblem('https://exa*mple.com')).toContain('expected an origin');
  });
});
