import { DeployedResource, Deployment } from './deployment';

/**
 * A constraint that AWS or Kubernetes enforces when the stack deploys or runs,
 * checked over a synthesized deployment. Written for every resource of a kind,
 * never for the one resource that once broke it.
 */
export interface DeployRule {
  /** A short, stable name. */
  readonly id: string;
  /** The constraint, as the service enforces it. */
  readonly constraint: string;
  /** Where AWS (or Kubernetes) says so. */
  readonly source: string;
  /** One line per violation: what, where, and why it fails. */
  check(deployment: Deployment): string[];
}

/** `resource` as a violation names it: its construct path. */
export function where(resource: DeployedResource): string {
  return resource.path.replace(/(\/(Resource|Default))+$/, '');
}

/** The values of `value`, an IAM field that may be a string or a list. */
export function list<T = any>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}
