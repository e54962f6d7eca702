/**
 * The dependency graph of a CloudFormation template: for each resource, the
 * logical IDs it depends on through Ref, Fn::GetAtt, Fn::Sub and DependsOn.
 */
export function dependencyGraph(template: any): Map<string, Set<string>> {
  const resources: Record<string, any> = template.Resources ?? {};
  const ids = new Set(Object.keys(resources));
  const graph = new Map<string, Set<string>>();
  for (const [id, resource] of Object.entries(resources)) {
    const deps = new Set<string>();
    collect(resource.Properties, deps);
    for (const dependsOn of [resource.DependsOn ?? []].flat()) {
      deps.add(dependsOn);
    }
    graph.set(id, new Set([...deps].filter(dep => ids.has(dep) && dep !== id)));
  }
  return graph;
}

/** Every resource that `id` waits for, directly or through others. */
export function transitiveDependencies(graph: Map<string, Set<string>>, id: string): Set<string> {
  const seen = new Set<string>();
  const stack = [...(graph.get(id) ?? [])];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (!seen.has(next)) {
      seen.add(next);
      stack.push(...(graph.get(next) ?? []));
    }
  }
  return seen;
}

function collect(node: any, deps: Set<string>): void {
  if (Array.isArray(node)) {
    node.forEach(child => collect(child, deps));
  } else if (node && typeof node === 'object') {
    if (typeof node.Ref === 'string') {
      deps.add(node.Ref);
    }
    if (Array.isArray(node['Fn::GetAtt'])) {
      deps.add(node['Fn::GetAtt'][0]);
    }
    const sub = node['Fn::Sub'];
    if (sub !== undefined) {
      const text = Array.isArray(sub) ? sub[0] : sub;
      for (const match of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}/g)) {
        deps.add(match[1]);
      }
    }
    Object.values(node).forEach(child => collect(child, deps));
  }
}
