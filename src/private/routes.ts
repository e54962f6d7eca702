/** A service as the load balancer routes it. */
export interface Route {
  readonly name: string;
  readonly path?: string;
}

/**
 * Checks that no two routes share a path and that exactly one has none (the
 * load balancer's default route), and returns that one.
 */
export function defaultRoute<T extends Route>(routes: T[]): T {
  const owners = new Map<string, string>();
  for (const route of routes) {
    if (route.path !== undefined) {
      const owner = owners.get(route.path);
      if (owner) {
        throw new Error(`\`services\`: '${route.name}' and '${owner}' both take the path '${route.path}': give each service its own path.`);
      }
      owners.set(route.path, route.name);
    }
  }
  const defaults = routes.filter(route => route.path === undefined);
  if (defaults.length !== 1) {
    throw new Error(
      `\`services\` has ${defaults.length} service(s) without a \`path\`${defaults.length ? ` (${defaults.map(route => route.name).join(', ')})` : ''}: ` +
      'exactly one, the API gateway, takes the default route. Give the others a path.');
  }
  return defaults[0];
}
