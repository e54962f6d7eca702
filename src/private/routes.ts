import { createHash } from 'crypto';
import { ConfigurationError } from './errors';

/** A service as the load balancer routes it. */
export interface Route {
  readonly name: string;
  readonly path?: string;
  /** The listener rule priority the user chose. */
  readonly priority?: number;
}

/** ALB rule priorities run from 1 to 50,000: the default route takes the last. */
export const LAST_PRIORITY = 50_000;

/**
 * Checks that no two routes share a path and that at most one has none (the
 * load balancer's default route), and returns that one. `property` names the
 * list in the messages: `services` in the platform, `routes` in the edge.
 */
export function checkPaths<T extends Route>(routes: T[], property: string): T | undefined {
  const owners = new Map<string, string>();
  let catchAll: T | undefined;
  for (const route of routes) {
    if (route.path === undefined) {
      if (catchAll) {
        throw new ConfigurationError(`\`${property}\`: '${route.name}' has no \`path\`, and '${catchAll.name}' takes the default route already: ` +
          `give '${route.name}' a path.`);
      }
      catchAll = route;
      continue;
    }
    const owner = owners.get(route.path);
    if (owner) {
      throw new ConfigurationError(`\`${property}\`: '${route.name}' and '${owner}' both take the path '${route.path}': give each ${singular(property)} its own path.`);
    }
    owners.set(route.path, route.name);
  }
  return catchAll;
}

/**
 * Checks the platform's services as routes: no two share a path and exactly one
 * has none (the API gateway, the default route), and returns that one.
 */
export function defaultRoute<T extends Route>(routes: T[]): T {
  checkPaths(routes.filter(route => route.path !== undefined), 'services');
  const defaults = routes.filter(route => route.path === undefined);
  if (defaults.length !== 1) {
    throw new ConfigurationError(
      `\`services\` has ${defaults.length} service(s) without a \`path\`${defaults.length ? ` (${defaults.map(route => route.name).join(', ')})` : ''}: ` +
      'exactly one, the API gateway, takes the default route. Give the others a path.');
  }
  return defaults[0];
}

/**
 * The listener rule priority of a path, derived from the path alone, from 1 to
 * 49,999: adding, removing or reordering services never moves another service's
 * rule, which would collide with the rule that still holds the number
 * (`PriorityInUse`). Deeper paths take lower numbers, so that a path that covers
 * another (`/api/*` and `/api/users/*`) comes after it: a band by the number of
 * segments before the first wildcard, the widest for two (`/api/users/*`, the
 * common shape), and within it the first four bytes of the path's SHA-256. A path
 * without a wildcard counts a segment more.
 */
export function derivedPriority(path: string): number {
  // An exact path counts one segment deeper: it comes before the `<path>/*` that also takes it.
  const exact = !/[*?]/.test(path);
  const segments = path.split(/[*?]/)[0].split('/').filter(segment => segment !== '').length + (exact ? 1 : 0);
  const [first, size] = PRIORITY_BANDS[Math.min(segments, PRIORITY_BANDS.length - 1)];
  return first + createHash('sha256').update(path, 'utf8').digest().readUInt32BE(0) % size;
}

/** The first priority and the size of the band of paths with 0, 1, 2 and 3 or more segments before the wildcard. */
const PRIORITY_BANDS: [number, number][] = [[49_000, 999], [44_000, 5_000], [14_000, 30_000], [1, 13_999]];

/**
 * The priority of each route with a path: the user's, or the one derived from
 * the path. Fails when two share one, or when a route covers another that comes
 * after it. `property` names the list in the messages.
 */
export function routePriorities<T extends Route>(routes: T[], property: string): Map<T, number> {
  const priorities = new Map<T, number>();
  for (const route of routes.filter(candidate => candidate.path !== undefined)) {
    priorities.set(route, route.priority ?? derivedPriority(route.path!));
  }
  const holders = new Map<number, T>();
  for (const [route, priority] of priorities) {
    const holder = holders.get(priority);
    if (holder) {
      throw new ConfigurationError(`\`${property}\`: '${route.name}' ('${route.path}') and '${holder.name}' ('${holder.path}') both take listener rule priority ${priority}: ` +
        `set \`priority\` on one of them to a free number from 1 to ${LAST_PRIORITY - 1}.`);
    }
    holders.set(priority, route);
  }
  // A rule whose pattern covers another's path must come after it, or the other never matches.
  for (const [general, generalPriority] of priorities) {
    for (const [specific, specificPriority] of priorities) {
      if (general !== specific && covers(general.path!, specific.path!) && generalPriority < specificPriority) {
        throw new ConfigurationError(`\`${property}\`: '${specific.name}' ('${specific.path}', priority ${specificPriority}) would never be reached: ` +
          `'${general.name}' ('${general.path}', priority ${generalPriority}) matches its requests first. ` +
          `Set \`priority\` on '${specific.name}' below ${generalPriority}, or on '${general.name}' above ${specificPriority}.`);
      }
    }
  }
  return priorities;
}

/**
 * Whether every request `specific` matches, `general` matches too: `/api/*`
 * covers `/api/users/*`, and `/api` too, since a rule for `/api/*` also takes the
 * path without the wildcard.
 */
function covers(general: string, specific: string): boolean {
  const prefix = general.endsWith('*') && !general.slice(0, -1).includes('*') ? general.slice(0, -1) : undefined;
  const literal = specific.split(/[*?]/)[0];
  return prefix !== undefined && (literal.startsWith(prefix) || (general.endsWith('/*') && specific === general.slice(0, -2)));
}

/** `services` → `service`, `routes` → `route`. */
function singular(property: string): string {
  return property.replace(/s$/, '');
}
