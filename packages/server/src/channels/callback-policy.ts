import { lookup as dnsLookup } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';

/**
 * Address ranges a callback may never reach unless the operator lists them: loopback, private,
 * carrier-grade NAT, link-local (cloud metadata lives at 169.254.169.254 and fd00:ec2::254),
 * multicast, reserved and unspecified. IPv4-mapped and NAT64 IPv6 addresses are judged by the IPv4
 * address they carry.
 */
const INTERNAL = new BlockList();
for (const [network, prefix] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) INTERNAL.addSubnet(network, prefix, 'ipv4');
for (const [network, prefix] of [['::', 128], ['::1', 128], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8], ['2001:db8::', 32]] as const) INTERNAL.addSubnet(network, prefix, 'ipv6');

/** The IPv4 address an IPv6 address carries (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`), if any. */
function embeddedIpv4(address: string): string | undefined {
  const mapped = /^(?:::ffff:|64:ff9b::)(\d+\.\d+\.\d+\.\d+)$/i.exec(address)?.[1];
  if (mapped) return mapped;
  const hex = /^(?:::ffff:|64:ff9b::)([0-9a-f]{1,4}):([0-9a-f]{1,4})$/i.exec(address);
  if (!hex) return undefined;
  const high = Number.parseInt(hex[1] as string, 16);
  const low = Number.parseInt(hex[2] as string, 16);
  return [high >> 8, high & 255, low >> 8, low & 255].join('.');
}

/** One allow-list entry: `https://hooks.example.com`, `https://*.example.com`, `http://127.0.0.1:8080`, `https://example.com:*`. */
interface AllowedOrigin {
  readonly protocol: 'http:' | 'https:';
  /** Lowercase host, without brackets for IPv6. */
  readonly host: string;
  /** `*.example.com` also matches `a.b.example.com` (not `example.com` itself). */
  readonly subdomains: boolean;
  /** `undefined` = any port. */
  readonly port: string | undefined;
}

const ENTRY = /^(https?):\/\/(\*\.)?(\[[0-9a-fA-F:.]+\]|[^/:*\s[\]]+)(?::(\d{1,5}|\*))?\/?$/;

/** Why an allow-list entry cannot be used, or `undefined` (for config validation). */
export function callbackAllowEntryProblem(entry: string): string | undefined {
  return ENTRY.test(entry) ? undefined : 'expected an origin like https://hooks.example.com, https://*.example.com or http://127.0.0.1:8080 (port * = any)';
}

function parseEntry(entry: string): AllowedOrigin {
  const match = ENTRY.exec(entry);
  if (!match) throw new Error(`invalid callback allow-list entry ${entry}: ${callbackAllowEntryProblem(entry)}`);
  const protocol = `${match[1]}:` as 'http:' | 'https:';
  const port = match[4] === '*' ? undefined : (match[4] ?? (protocol === 'https:' ? '443' : '80'));
  return { protocol, host: (match[3] as string).replace(/^\[|\]$/g, '').toLowerCase(), subdomains: match[2] !== undefined, port };
}

export interface CallbackPolicyOptions {
  /** Origins (or `*.` host patterns) callbacks may point at; empty = no callbacks. */
  readonly allow: readonly string[];
  /** CIDRs of internal networks callbacks may reach, e.g. `10.20.0.0/16` (a listed IP-literal origin is allowed too). */
  readonly allowAddresses?: readonly string[];
  /** Resolves host names (default: the system's `dns.lookup`); tests stand in a rebinding resolver. */
  readonly resolve?: typeof dnsLookup;
}

/**
 * What a request's `callbackUrl` may reach. Agents choose callback URLs, so without this any agent
 * key could make the server POST (signed, retried) to its own admin port or a cloud metadata
 * service. A URL must match an allow-listed origin; and the address actually connected to — after
 * DNS, so rebinding does not help — must not be internal unless the operator listed it. Redirects
 * are never followed (the delivery does not follow them).
 *
 * @example
 * const policy = createCallbackPolicy({ allow: ['https://*.example.com'] });
 * policy.problem('http://169.254.169.254/latest/meta-data'); // "… is not in webhooks.callback_allow"
 */
export function createCallbackPolicy(options: CallbackPolicyOptions) {
  const origins = options.allow.map(parseEntry);
  const listed = new BlockList();
  for (const origin of origins) {
    const family = isIP(origin.host);
    if (family !== 0) listed.addAddress(origin.host, family === 6 ? 'ipv6' : 'ipv4');
    if (origin.host === 'localhost') (listed.addSubnet('127.0.0.0', 8, 'ipv4'), listed.addAddress('::1', 'ipv6'));
  }
  for (const cidr of options.allowAddresses ?? []) {
    const [network, prefix] = cidr.split('/') as [string, string | undefined];
    const family = isIP(network) === 6 ? 'ipv6' : 'ipv4';
    listed.addSubnet(network, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
  }

  /** Whether the server may connect to this address. */
  function allowsAddress(address: string): boolean {
    const family = isIP(address);
    if (family === 0) return false;
    const type = family === 6 ? 'ipv6' : 'ipv4';
    if (listed.check(address, type)) return true;
    const carried = family === 6 ? embeddedIpv4(address) : undefined;
    if (carried) return listed.check(carried, 'ipv4') || !INTERNAL.check(carried, 'ipv4');
    return !INTERNAL.check(address, type);
  }

  /** Why this callback URL is refused, or `undefined` when it may be used. */
  function problem(url: string): string | undefined {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      return 'callbackUrl is not a URL';
    }
    if (parsed.username || parsed.password) return 'callbackUrl must not carry credentials';
    const host = parsed.hostname.replace(/^\[|\]$/g, '').toLowerCase();
    const port = parsed.port || (parsed.protocol === 'https:' ? '443' : '80');
    const matches = origins.some(
      (origin) =>
        origin.protocol === parsed.protocol &&
        (origin.port === undefined || origin.port === port) &&
        (origin.subdomains ? host.endsWith(`.${origin.host}`) : host === origin.host),
    );
    if (!matches) return `callbackUrl ${parsed.origin} is not in webhooks.callback_allow`;
    if (isIP(host) !== 0 && !allowsAddress(host)) return `callbackUrl points at an internal address (${host}); list it in webhooks.callback_allow_addresses to allow it`;
    return undefined;
  }

  /** A DNS lookup for the delivery's socket that refuses internal addresses: the check applies to what is connected to. */
  const lookup: LookupFunction = (hostname, lookupOptions, callback) => {
    (options.resolve ?? dnsLookup)(hostname, { ...lookupOptions, all: true }, (error, addresses) => {
      if (error) return callback(error, '', 0);
      const resolved = addresses as unknown as Array<{ address: string; family: number }>;
      const refused = resolved.find((entry) => !allowsAddress(entry.address));
      if (refused || resolved.length === 0) {
        const reason = Object.assign(new Error(`callback host ${hostname} resolves to ${refused?.address ?? 'nothing'}, an address callbacks may not reach`), { code: 'CALLBACK_ADDRESS_REFUSED' });
        return callback(reason, '', 0);
      }
      if (lookupOptions.all) return (callback as unknown as (error: null, addresses: typeof resolved) => void)(null, resolved);
      const first = resolved[0] as { address: string; family: number };
      return callback(null, first.address, first.family);
    });
  };

  return { problem, allowsAddress, lookup };
}

export type CallbackPolicy = ReturnType<typeof createCallbackPolicy>;
