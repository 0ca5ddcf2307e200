// How istioctl describes a RouteMatch in one cell: `/prefix*`, `PathPrefix:/x`, an exact path, or
// `regex <re>` (headers and query parameters are not shown).
import { obj, str } from './proto.ts';

export function describeMatch(match: unknown): string {
  const conds: string[] = [];
  const prefix = str(match, 'prefix');
  if (prefix) conds.push(`${prefix}*`);
  const sep = str(match, 'path_separated_prefix');
  if (sep) conds.push(`PathPrefix:${sep}`);
  const path = str(match, 'path');
  if (path) conds.push(path);
  const regex = obj(match, 'safe_regex');
  if (regex) conds.push(`regex ${str(regex, 'regex')}`);
  return conds.join(' ');
}
