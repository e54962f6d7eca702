import { fullDiff, ResourceImpact } from '@aws-cdk/cloudformation-diff';
import { DeployedResource, DeployedTemplate, Deployment } from './deployment';

/**
 * A constraint that lives between deploys: what CloudFormation, kubectl and the
 * controllers do when one synthesized deployment replaces the one before it.
 * A rule gets the whole sequence (the first deploy, then each change in order)
 * and judges every step, with what the earlier steps left behind.
 */
export interface SequenceRule {
  /** A short, stable name. */
  readonly id: string;
  /** The constraint, as the service enforces it. */
  readonly constraint: string;
  /** Where AWS (or Kubernetes) says so. */
  readonly source: string;
  /** One line per violation: the step, what, where, and why it fails. */
  check(steps: Deployment[]): string[];
}

/** One deploy after another: what CloudFormation does to each resource. */
export class Step {
  private readonly diffs = new Map<string, ReturnType<typeof fullDiff>>();

  constructor(public readonly before: Deployment, public readonly after: Deployment) {}

  /** `before → after`, for messages. */
  public get name(): string {
    return `${this.before.name} → ${this.after.name}`;
  }

  /** The template of `after` at the path of `template` (a stack of `before`), if the step keeps it. */
  public counterpart(template: DeployedTemplate): DeployedTemplate | undefined {
    return [this.before, this.after].flatMap(deployment => deployment.templates)
      .find(candidate => candidate !== template && candidate.path === template.path);
  }

  /** The resource of the other deployment with the same template path and logical ID. */
  public same(resource: DeployedResource): DeployedResource | undefined {
    const other = this.counterpart(resource.template);
    const deployment = this.before.templates.includes(resource.template) ? this.after : this.before;
    return other ? deployment.find(other, resource.logicalId) : undefined;
  }

  /**
   * Whether CloudFormation replaces `resource` (of `before`) in this step, or may:
   * from the registry's update behaviours, as `cdk diff` reads them.
   */
  public replaces(resource: DeployedResource): boolean {
    const after = this.same(resource);
    if (!after) return false;
    const impact = this.diffOf(resource.template).resources.changes[resource.logicalId]?.changeImpact;
    return impact === ResourceImpact.WILL_REPLACE || impact === ResourceImpact.MAY_REPLACE;
  }

  /** The resources of `before` this step deletes: gone from the template, or replaced. */
  public removed(...types: string[]): DeployedResource[] {
    return this.before.resources(...types).filter(resource => !this.same(resource));
  }

  /** The resources of `after` this step creates: new in the template, or replacements. */
  public created(...types: string[]): DeployedResource[] {
    return this.after.resources(...types).filter(resource => {
      const before = this.same(resource);
      return !before || this.replaces(before);
    });
  }

  private diffOf(template: DeployedTemplate): ReturnType<typeof fullDiff> {
    let diff = this.diffs.get(template.path);
    if (!diff) {
      diff = fullDiff(template.template, this.counterpart(template)?.template ?? { Resources: {} });
      this.diffs.set(template.path, diff);
    }
    return diff;
  }
}

/** The steps of a sequence: each deployment after the one before it. */
export function stepsOf(steps: Deployment[]): Step[] {
  return steps.slice(1).map((after, index) => new Step(steps[index], after));
}
