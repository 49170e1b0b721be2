// dataFrom.find's name filter, shared by every provider that lists remote names.
import { compileUserRegex, type FindSpec } from '@herdless/core';

/** ESO's find.name.regexp: Go RE2, matched as regexp.MatchString (an unanchored search), in linear time. */
export function findNameMatcher(find: FindSpec): (name: string) => boolean {
  if (!find.name) return () => true;
  const re = compileUserRegex(find.name.regexp, 'find.name.regexp');
  return (name) => re.test(name);
}
