/**
 * A Signoff tool glob as an anchored RegExp source, for peers that match tools by regex: `*` is one
 * dot-separated segment, `**` any segments, `?` one non-dot character, `{a,b}` alternatives.
 */
export function globToRegex(glob: string): string {
  let source = '';
  let insideBraces = false;
  for (let index = 0; index < glob.length; index += 1) {
    const char = glob[index] as string;
    if (char === '*' && glob[index + 1] === '*') {
      source += '.*';
      index += 1;
    } else if (char === '*') source += '[^.]*';
    else if (char === '?') source += '[^.]';
    else if (char === '{' || char === '}') {
      source += char === '{' ? '(?:' : ')';
      insideBraces = char === '{';
    } else if (char === ',' && insideBraces) source += '|';
    else source += char.replace(/[\\^$.|+()[\]]/g, '\\$&');
  }
  return `^${source}$`;
}

/** True when a `tool` entry is a glob rather than an exact name (same test as core). */
export function isGlob(tool: string): boolean {
  return /[*?{}]/.test(tool);
}
