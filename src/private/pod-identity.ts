import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct, IDependable } from 'constructs';

/** Where a Pod Identity role is used. */
export interface PodIdentityTarget {
  /** The cluster's name. */
  readonly clusterName: string;
  /** The cluster's ARN: the trust names it, so no other cluster's pods can assume the role. */
  readonly clusterArn: string;
  readonly namespace: string;
  readonly serviceAccount: string;
  /** The Pod Identity agent, which must run before the association is useful. */
  readonly agent: IDependable;
}

/**
 * The trust of a Pod Identity role: the EKS Auth service, for pods of one
 * service account in one namespace of one cluster only. Pod Identity sets these
 * session tags on every session it asks for; without the conditions, anyone who
 * may create an association in any cluster of the account could use the role.
 */
export function podIdentityPrincipal(target: Pick<PodIdentityTarget, 'clusterArn' | 'namespace' | 'serviceAccount'>): iam.IPrincipal {
  return new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags().withConditions({
    StringEquals: {
      'aws:RequestTag/eks-cluster-arn': target.clusterArn,
      'aws:RequestTag/kubernetes-namespace': target.namespace,
      'aws:RequestTag/kubernetes-service-account': target.serviceAccount,
    },
  });
}

/**
 * A role that the pods of one service account assume through EKS Pod Identity,
 * and its association. The role has no permissions until granted.
 */
export function podIdentityRole(
  scope: Construct, id: string, target: PodIdentityTarget,
): { role: iam.Role; association: eks.CfnPodIdentityAssociation } {
  const role = new iam.Role(scope, id, {
    assumedBy: podIdentityPrincipal(target),
    description: `Pod Identity role of ${target.namespace}/${target.serviceAccount}`,
  });
  const association = new eks.CfnPodIdentityAssociation(scope, `${id}Association`, {
    clusterName: target.clusterName,
    namespace: target.namespace,
    serviceAccount: target.serviceAccount,
    roleArn: role.roleArn,
  });
  // Pods given this association get credentials from the agent, which must run first.
  association.node.addDependency(target.agent);
  return { role, association };
}

/**
 * A principal whose grants go into one customer-managed policy attached to a role,
 * created on the first grant, instead of the role's inline default policy (which
 * the HIPAA, NIST and PCI packs reject).
 */
export class ManagedPolicyGrantee implements iam.IPrincipal {
  public readonly grantPrincipal: iam.IPrincipal = this;
  public readonly assumeRoleAction: string;
  public readonly principalAccount?: string;
  private policy?: iam.ManagedPolicy;

  /**
   * @param onPolicy called once, with the policy, when the first grant creates it:
   * what runs with the role (its pods) can then wait for its permissions
   */
  constructor(private readonly scope: Construct, private readonly role: iam.Role, private readonly description: string,
    private readonly onPolicy?: (policy: iam.ManagedPolicy) => void) {
    this.assumeRoleAction = role.assumeRoleAction;
    this.principalAccount = role.principalAccount;
  }

  public get policyFragment(): iam.PrincipalPolicyFragment {
    return this.role.policyFragment;
  }

  public addToPolicy(statement: iam.PolicyStatement): boolean {
    return this.addToPrincipalPolicy(statement).statementAdded;
  }

  public addToPrincipalPolicy(statement: iam.PolicyStatement): iam.AddToPrincipalPolicyResult {
    if (!this.policy) {
      this.policy = new iam.ManagedPolicy(this.scope, 'Policy', { description: this.description, roles: [this.role] });
      this.onPolicy?.(this.policy);
    }
    this.policy.addStatements(statement);
    return { statementAdded: true, policyDependable: this.policy };
  }
}
