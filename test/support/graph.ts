import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, NestedStack, Stack } from 'aws-cdk-lib';

/** One resource of a deployment: its logical ID, with its nested stacks' logical IDs before it. */
export interface GraphNode {
  /** `Parent/Nested/LogicalId`: the logical IDs from the root template down. */
  readonly id: string;
  /** The construct path of the resource. */
  readonly path: string;
  /** The CloudFormation type. */
  readonly type: string;
}

/**
 * The order in which CloudFormation creates the resources of a stack and of its
 * nested stacks: for each resource, what it waits for. A resource waits for what
 * it references (Ref, Fn::GetAtt, Fn::Sub) and what it names in DependsOn. A
 * nested stack starts once every resource behind its parameters and DependsOn
 * exists, so each of its resources waits for those too; a reference to a nested
 * stack's output waits for the whole nested stack.
 */
export class DependencyGraph {
  /** The graph of `stack` and its nested stacks, from its synthesized assembly. */
  public static of(stack: Stack): DependencyGraph {
    const assembly = App.of(stack)!.synth();
    const artifact = assembly.getStackArtifact(stack.artifactId);
    const graph = new DependencyGraph();
    for (const construct of stack.node.findAll()) {
      if (CfnResource.isCfnResource(construct)) {
        graph.paths.set(graphId(construct), construct.node.path);
      }
      if (NestedStack.isNestedStack(construct)) {
        graph.nestedTemplates.set(graphId(construct.nestedStackResource!), construct.templateFile);
      }
    }
    graph.addTemplate('', artifact.template, assembly.directory, new Set());
    return graph;
  }

  /** Every resource, by ID. */
  public readonly nodes = new Map<string, GraphNode>();
  private readonly edges = new Map<string, Set<string>>();
  private readonly paths = new Map<string, string>();
  private readonly nestedTemplates = new Map<string, string>();

  private constructor() {}

  /** The resources whose construct path matches `pattern`. */
  public find(pattern: RegExp): GraphNode[] {
    return [...this.nodes.values()].filter(node => pattern.test(node.path));
  }

  /** Every resource that `id` waits for, directly or through others. */
  public waitsFor(id: string): GraphNode[] {
    const seen = new Set<string>();
    const todo = [...(this.edges.get(id) ?? [])];
    while (todo.length > 0) {
      const next = todo.pop()!;
      if (!seen.has(next)) {
        seen.add(next);
        todo.push(...(this.edges.get(next) ?? []));
      }
    }
    seen.delete(id);
    return [...seen].map(dep => this.nodes.get(dep)!);
  }

  /**
   * Adds the resources of one template. `prefix` is the ID of the nested stack
   * resource that holds it ('' for the root); `inherited` is what that nested stack
   * waits for before it starts; `parameters` maps its parameters to what they name.
   */
  private addTemplate(
    prefix: string, template: any, directory: string, inherited: Set<string>, parameters: Map<string, Set<string>> = new Map(),
  ): void {
    const resources: Record<string, any> = template.Resources ?? {};
    const idOf = (logicalId: string) => prefix ? `${prefix}/${logicalId}` : logicalId;
    const referenced = (node: any): Set<string> => {
      const found = new Set<string>();
      for (const name of references(node)) {
        if (resources[name]) {
          found.add(idOf(name));
        }
        for (const dep of parameters.get(name) ?? []) {
          found.add(dep);
        }
      }
      return found;
    };
    for (const [logicalId, resource] of Object.entries(resources)) {
      const id = idOf(logicalId);
      this.nodes.set(id, { id, path: this.paths.get(id) ?? id, type: resource.Type });
      const deps = new Set([...referenced(resource.Properties), ...inherited]);
      for (const dependsOn of [resource.DependsOn ?? []].flat()) {
        deps.add(idOf(dependsOn));
      }
      deps.delete(id);
      this.edges.set(id, deps);
    }
    for (const [logicalId, resource] of Object.entries(resources)) {
      const id = idOf(logicalId);
      const file = this.nestedTemplates.get(id);
      if (!file) {
        continue;
      }
      const nestedParameters = new Map<string, Set<string>>();
      for (const [name, value] of Object.entries(resource.Properties?.Parameters ?? {})) {
        nestedParameters.set(name, referenced(value));
      }
      const nested = JSON.parse(fs.readFileSync(path.join(directory, file), 'utf8'));
      this.addTemplate(id, nested, directory, this.edges.get(id)!, nestedParameters);
      // The nested stack is complete when all of its resources are.
      for (const nestedId of Object.keys(nested.Resources ?? {})) {
        this.edges.get(id)!.add(`${id}/${nestedId}`);
      }
    }
  }
}

/** The ID of a resource in the graph: its logical ID after those of its nested stacks. */
function graphId(resource: CfnResource): string {
  const stack = Stack.of(resource);
  const logicalId = stack.resolve(resource.logicalId);
  return stack.nestedStackResource ? `${graphId(stack.nestedStackResource)}/${logicalId}` : logicalId;
}

/** The logical IDs and parameter names that `node` references. */
function references(node: any, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    node.forEach(child => references(child, found));
  } else if (node && typeof node === 'object') {
    if (typeof node.Ref === 'string') {
      found.add(node.Ref);
    }
    if (Array.isArray(node['Fn::GetAtt'])) {
      found.add(node['Fn::GetAtt'][0]);
    }
    const sub = node['Fn::Sub'];
    if (sub !== undefined) {
      const text = Array.isArray(sub) ? sub[0] : sub;
      for (const match of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}/g)) {
        found.add(match[1]);
      }
    }
    Object.values(node).forEach(child => references(child, found));
  }
  return found;
}
