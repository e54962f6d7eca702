import * as fs from 'fs';
import * as path from 'path';
import { App, CfnResource, NestedStack, Stack } from 'aws-cdk-lib';

/** One synthesized template: a stack's or a nested stack's. */
export interface DeployedTemplate {
  /** The construct path of the stack. */
  readonly path: string;
  /** The template as CloudFormation reads it. */
  readonly template: any;
  /** The template that holds this nested stack, and the logical ID of its `AWS::CloudFormation::Stack` there. */
  readonly parent?: { readonly template: DeployedTemplate; readonly logicalId: string };
  /** The literal region of the stack, or undefined when it is known only at deploy time. */
  readonly region?: string;
}

/** A resource of a template. */
export interface DeployedResource {
  readonly template: DeployedTemplate;
  readonly logicalId: string;
  readonly type: string;
  readonly properties: any;
  readonly resource: any;
  /** The construct path, for messages. */
  readonly path: string;
}

/** A Kubernetes object applied by a manifest or named in a chart. */
export interface DeployedObject {
  readonly resource: DeployedResource;
  readonly object: any;
  /** Its place in its manifest, which kubectl applies in order (0 for a chart's). */
  readonly index: number;
}

/**
 * What CloudFormation would deploy for one configuration: every template (root
 * and nested) of every stack of the app, and the Kubernetes objects inside them.
 * Rules read it; nothing here knows the library's constructs.
 */
export class Deployment {
  /**
   * Synthesizes `app` and reads back every template it wrote. With
   * `importsExistingResources`, it stands for `cdk deploy --import-existing-resources`.
   */
  public static of(name: string, app: App, options: { readonly importsExistingResources?: boolean } = {}): Deployment {
    const assembly = app.synth();
    const templates: DeployedTemplate[] = [];
    const byStack = new Map<Stack, DeployedTemplate>();
    const paths = new Map<string, string>();
    const stacks = app.node.findAll().filter((c): c is Stack => Stack.isStack(c));
    // Parents before children: findAll is depth-first pre-order.
    for (const stack of stacks) {
      for (const child of stack.node.findAll()) {
        if (CfnResource.isCfnResource(child) && Stack.of(child) === stack) {
          paths.set(`${stack.node.path}#${stack.resolve(child.logicalId)}`, child.node.path);
        }
      }
      const region = Stack.of(stack).region;
      const literalRegion = region.startsWith('${Token') ? undefined : region;
      let deployed: DeployedTemplate;
      if (NestedStack.isNestedStack(stack)) {
        const parentStack = stack.nestedStackParent!;
        const parent = byStack.get(parentStack)!;
        const logicalId = parentStack.resolve(stack.nestedStackResource!.logicalId);
        deployed = {
          path: stack.node.path,
          template: JSON.parse(fs.readFileSync(path.join(assembly.directory, stack.templateFile), 'utf8')),
          parent: { template: parent, logicalId },
          region: literalRegion,
        };
      } else {
        deployed = { path: stack.node.path, template: assembly.getStackArtifact(stack.artifactId).template, region: literalRegion };
      }
      byStack.set(stack, deployed);
      templates.push(deployed);
    }
    return new Deployment(name, templates, paths, options.importsExistingResources ?? false);
  }

  private constructor(
    public readonly name: string,
    public readonly templates: DeployedTemplate[],
    private readonly paths: Map<string, string>,
    /** Whether the deploy imports the retained, named resources it finds (CloudFormation's ImportExistingResources). */
    public readonly importsExistingResources: boolean = false,
  ) {}

  /** Every resource, or those of the given types, across templates. */
  public resources(...types: string[]): DeployedResource[] {
    return this.templates.flatMap(template => Object.entries<any>(template.template.Resources ?? {})
      .filter(([, resource]) => types.length === 0 || types.includes(resource.Type))
      .map(([logicalId, resource]) => this.resource(template, logicalId, resource)));
  }

  /** The resource `logicalId` of `template`, if it has one. */
  public find(template: DeployedTemplate, logicalId: string): DeployedResource | undefined {
    const resource = template.template.Resources?.[logicalId];
    return resource ? this.resource(template, logicalId, resource) : undefined;
  }

  /**
   * The resource that `value` references (`Ref` or `Fn::GetAtt`), following a
   * nested stack's parameters up to the template that owns the resource.
   */
  public target(template: DeployedTemplate, value: any): DeployedResource | undefined {
    const id = referencedId(value);
    if (id === undefined) {
      return undefined;
    }
    const own = this.find(template, id);
    const getAtt = value?.['Fn::GetAtt'];
    if (own?.type === 'AWS::CloudFormation::Stack' && Array.isArray(getAtt) && String(getAtt[1]).startsWith('Outputs.')) {
      // A nested stack's output: follow it into the nested template.
      const nested = this.templates.find(candidate => candidate.parent?.template === template && candidate.parent.logicalId === id);
      const output = nested?.template.Outputs?.[String(getAtt[1]).slice('Outputs.'.length)];
      return nested && output ? this.target(nested, output.Value) ?? own : own;
    }
    if (own) {
      return own;
    }
    const parameterValue = template.template.Parameters?.[id] && template.parent
      ? template.parent.template.template.Resources[template.parent.logicalId].Properties?.Parameters?.[id]
      : undefined;
    return parameterValue !== undefined && template.parent ? this.target(template.parent.template, parameterValue) : undefined;
  }

  /**
   * The first resource of `type` that `value` references anywhere inside it (an
   * ARN built with `Fn::Join` around a `Ref`, for instance).
   */
  public referenced(template: DeployedTemplate, value: any, type: string): DeployedResource | undefined {
    return references(value).map(ref => this.target(template, ref)).find(found => found?.type === type);
  }

  /** The Kubernetes objects of every aws-eks-v2 manifest, with references flattened to text. */
  public kubernetesObjects(): DeployedObject[] {
    return this.resources('Custom::AWSCDK-EKS-KubernetesResource').flatMap(resource =>
      (JSON.parse(flatten(resource.properties.Manifest)) as any[]).map((object, index) => ({ resource, object, index })));
  }

  /** The Helm charts, with their values parsed. */
  public helmCharts(): { resource: DeployedResource; values: any }[] {
    return this.resources('Custom::AWSCDK-EKS-HelmChart').map(resource => ({
      resource,
      values: resource.properties.Values ? JSON.parse(flatten(resource.properties.Values)) : {},
    }));
  }

  /** Whether `resource` waits for `dependency` through DependsOn or a reference, directly or not. */
  public waitsFor(resource: DeployedResource, dependency: DeployedResource): boolean {
    const seen = new Set<string>();
    const todo: DeployedResource[] = [resource];
    const key = (r: DeployedResource) => `${r.template.path}#${r.logicalId}`;
    while (todo.length > 0) {
      const next = todo.pop()!;
      if (seen.has(key(next))) continue;
      seen.add(key(next));
      if (next !== resource && key(next) === key(dependency)) return true;
      // A nested stack's resource completes once every resource of its template has.
      if (next !== resource && next.type === 'AWS::CloudFormation::Stack' && this.holds(next, dependency.template)) return true;
      for (const id of [next.resource.DependsOn ?? []].flat()) {
        const found = this.find(next.template, id);
        if (found) todo.push(found);
      }
      for (const value of references(next.properties)) {
        const found = this.target(next.template, value);
        if (found) todo.push(found);
      }
      // A nested stack's resources wait for whatever the stack resource waits for.
      if (next.template.parent && next === resource) {
        const stackResource = this.find(next.template.parent.template, next.template.parent.logicalId);
        if (stackResource) todo.push(stackResource);
      }
    }
    return false;
  }

  /** Whether `template` is the nested stack of the stack resource `stack`, or nested deeper in it. */
  private holds(stack: DeployedResource, template: DeployedTemplate): boolean {
    for (let current: DeployedTemplate | undefined = template; current?.parent; current = current.parent.template) {
      if (current.parent.template === stack.template && current.parent.logicalId === stack.logicalId) return true;
    }
    return false;
  }

  private resource(template: DeployedTemplate, logicalId: string, resource: any): DeployedResource {
    return {
      template,
      logicalId,
      type: resource.Type,
      properties: resource.Properties ?? {},
      resource,
      path: this.paths.get(`${template.path}#${logicalId}`) ?? `${template.path}/${logicalId}`,
    };
  }
}

/** The logical ID or parameter name that `value` names with `Ref` or `Fn::GetAtt`. */
export function referencedId(value: any): string | undefined {
  if (value && typeof value === 'object') {
    if (typeof value.Ref === 'string') return value.Ref;
    const getAtt = value['Fn::GetAtt'];
    if (Array.isArray(getAtt)) return getAtt[0];
    if (typeof getAtt === 'string') return getAtt.split('.')[0];
  }
  return undefined;
}

/** Every `Ref`/`Fn::GetAtt` object inside `node` (pseudo parameters excluded). */
export function references(node: any, found: any[] = []): any[] {
  if (Array.isArray(node)) {
    node.forEach(child => references(child, found));
  } else if (node && typeof node === 'object') {
    const id = referencedId(node);
    if (id !== undefined && !id.startsWith('AWS::')) {
      found.push(node);
      return found;
    }
    const sub = node['Fn::Sub'];
    if (sub !== undefined) {
      const text = Array.isArray(sub) ? sub[0] : sub;
      for (const match of String(text).matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z0-9.]+)?\}/g)) {
        found.push({ Ref: match[1] });
      }
      if (Array.isArray(sub)) references(sub[1], found);
      return found;
    }
    Object.values(node).forEach(child => references(child, found));
  }
  return found;
}

/** `value` as text: literal parts kept, every reference written as `<ref:Id>`. */
export function flatten(value: any): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(flatten).join(',');
  if (value && typeof value === 'object') {
    if (value['Fn::Join']) {
      const [delimiter, parts] = value['Fn::Join'];
      return (Array.isArray(parts) ? parts : [parts]).map(flatten).join(delimiter);
    }
    const id = referencedId(value);
    if (id !== undefined) return `<ref:${id}>`;
    if (value['Fn::Select'] || value['Fn::Split'] || value['Fn::GetAZs'] || value['Fn::If'] || value['Fn::FindInMap']) {
      return `<fn:${Object.keys(value)[0].slice(4)}>`;
    }
    return `<${JSON.stringify(value)}>`;
  }
  return String(value);
}

/** Whether `value` is literal: no reference or function anywhere in it. */
export function isLiteral(value: any): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(isLiteral);
  return Object.keys(value).every(key => !key.startsWith('Fn::') && key !== 'Ref') && Object.values(value).every(isLiteral);
}

/**
 * The statements of an IAM policy document, with `Action`, `Resource` and
 * `Principal` values as arrays.
 */
export function statements(document: any): any[] {
  if (!document || typeof document !== 'object') return [];
  return [document.Statement ?? []].flat();
}
