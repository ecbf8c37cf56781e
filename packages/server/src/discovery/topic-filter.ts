/**
 * MQTT topic filters (MQTT 3.1.1 §4.7): `+` matches one level, `#` (last) any number of levels,
 * and neither matches a first level starting with `$` (`$SYS/…` stays out of `#`).
 * @module
 */

/** Whether `topic` matches `filter`. */
export function topicMatches(filter: string, topic: string): boolean {
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false;
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return i === f.length - 1;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Whether a filter is well formed: `+` and `#` only as whole levels, `#` only last, no NUL. */
export function isTopicFilter(filter: string): boolean {
  if (filter.length === 0 || filter.includes('\u0000')) return false;
  const levels = filter.split('/');
  return levels.every((level, i) =>
    level === '#' ? i === levels.length - 1 : level === '+' || (!level.includes('+') && !level.includes('#')),
  );
}
