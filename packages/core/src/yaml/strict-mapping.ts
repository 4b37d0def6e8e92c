import * as z from 'zod';

/**
 * A zod strict object for a YAML mapping: an unknown key is reported at the key, by name, with the
 * keys that are allowed (`validateYaml` fills `{key}` in per key).
 *
 * @example
 * const Server = strictMapping({ port: z.number(), host: z.string().optional() }, 'server key');
 * // "unknown server key 'prot'; expected one of: port, host"
 */
export function strictMapping<Shape extends z.ZodRawShape>(shape: Shape, what: string): z.ZodObject<Shape, z.core.$strict> {
  const allowed = Object.keys(shape).join(', ');
  return z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys'
        ? `unknown ${what} '{key}'; expected one of: ${allowed}`
        : issue.code === 'invalid_type'
          ? 'expected a mapping'
          : undefined,
  });
}
