import { Token } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { ConfigurationError } from '../private/errors';
import { requirePathPattern, requireWholeNumber } from '../private/validate';

/**
 * What the load balancer sends to one service: the requests of a path pattern
 * (or every request no other route takes), to one target group or weighted
 * across several (a canary).
 */
export interface EdgeRoute {
  /**
   * The service's name: messages name the route by it, and a route of
   * `EdgeProps.routes` is created as `<Name>Route` in the edge.
   */
  readonly name: string;

  /**
   * The path pattern the route takes, such as '/api/users/*'. A pattern that ends
   * with `/*` also takes the path without it ('/api/users').
   *
   * @default - none: the default route, a catch-all rule at the last priority (at most one route has no path)
   */
  readonly path?: string;

  /**
   * The listener rule priority, from 1 to 49,999: lower is evaluated first.
   * Only routes with a path take one.
   *
   * @default - derived from the path alone, so that adding, removing or reordering routes never moves another rule
   */
  readonly priority?: number;

  /**
   * The target groups that receive the route's requests: one, or up to five
   * with their weights (0 to 999, one of them above 0). A weight of 0 sends
   * nothing to the group.
   */
  readonly targetGroups: elbv2.WeightedTargetGroup[];

  /**
   * The port the targets listen on: the load balancer may reach the workloads'
   * security group on it.
   */
  readonly targetPort: number;
}

/** Target groups one forward action takes (Elastic Load Balancing's user guide, "Listener rules"). */
const TARGET_GROUPS_PER_ACTION = 5;

/** Checks what a route's own fields can get wrong; `where` names it in the messages. */
export function validateRoute(where: string, route: EdgeRoute): void {
  if (route.name === '' || Token.isUnresolved(route.name)) {
    throw new ConfigurationError(`\`${where}.name\` ('${route.name}') must be a literal, non-empty name such as 'user-service'.`);
  }
  if (route.path !== undefined) {
    requirePathPattern(`${where}.path`, route.path, '/api/users/*');
    if (route.path === '/*') {
      throw new ConfigurationError(`\`${where}.path\` ('/*') matches every request, as the default route does: leave \`path\` out for the route ` +
        'that takes everything else, and give the others their prefix, such as \'/api/users/*\'.');
    }
  }
  if (route.priority !== undefined) {
    if (route.path === undefined) {
      throw new ConfigurationError(`\`${where}.priority\` is set, but the route has no \`path\`: the default route always comes last. ` +
        'Remove `priority`, or give the route a path.');
    }
    requireWholeNumber(`${where}.priority`, route.priority, 1, 49_999);
  }
  const groups = route.targetGroups.length;
  if (groups === 0 || groups > TARGET_GROUPS_PER_ACTION) {
    throw new ConfigurationError(`\`${where}.targetGroups\` has ${groups} target groups: a listener rule forwards to 1 to ${TARGET_GROUPS_PER_ACTION}.`);
  }
  route.targetGroups.forEach((group, index) => {
    if (group.weight !== undefined) requireWholeNumber(`${where}.targetGroups[${index}].weight`, group.weight, 0, 999);
  });
  if (route.targetGroups.every(group => group.weight === 0)) {
    throw new ConfigurationError(`\`${where}.targetGroups\` all weigh 0: the rule would take the route's requests and send them nowhere. ` +
      'Give one target group a weight above 0.');
  }
  requireWholeNumber(`${where}.targetPort`, route.targetPort, 1, 65_535);
}

/** Forwards to the route's one target group, or weighted across its groups (or one group with a weight). */
export function forwardTo(route: EdgeRoute): elbv2.ListenerAction {
  const [only] = route.targetGroups;
  return route.targetGroups.length === 1 && only.weight === undefined
    ? elbv2.ListenerAction.forward([only.targetGroup])
    : elbv2.ListenerAction.weightedForward(route.targetGroups);
}
