import { DeployedResource, Deployment, flatten, references, statements } from '../deployment';
import { DeployRule, list, where } from '../rule';

/** The namespace each EKS add-on installs its service accounts in. */
const ADDON_NAMESPACES: Record<string, string> = {
  'vpc-cni': 'kube-system',
  'aws-ebs-csi-driver': 'kube-system',
  'coredns': 'kube-system',
  'kube-proxy': 'kube-system',
  'eks-pod-identity-agent': 'kube-system',
  'metrics-server': 'kube-system',
  'amazon-cloudwatch-observability': 'amazon-cloudwatch',
};

/**
 * EKS keeps one Pod Identity association per cluster, namespace and service
 * account (a second is `ResourceInUseException: Association already exists`),
 * and an add-on's `PodIdentityAssociations` are associations too, which the
 * add-on cannot adopt when they exist already.
 */
export const onePodIdentityAssociationPerServiceAccount: DeployRule = {
  id: 'one-pod-identity-association-per-service-account',
  constraint: 'At most one Pod Identity association per cluster, namespace and service account, counting those an add-on creates.',
  source: 'https://docs.aws.amazon.com/eks/latest/userguide/pod-id-association.html ("Add-ons can\'t assume ownership of existing pod identity associations"); ' +
    'https://docs.aws.amazon.com/eks/latest/APIReference/API_CreatePodIdentityAssociation.html',
  check(deployment: Deployment): string[] {
    const owners = new Map<string, string[]>();
    const add = (cluster: any, namespace: string, serviceAccount: string, owner: DeployedResource) => {
      const key = `${clusterKey(deployment, owner, cluster)} ${namespace}/${serviceAccount}`;
      owners.set(key, [...(owners.get(key) ?? []), where(owner)]);
    };
    for (const association of deployment.resources('AWS::EKS::PodIdentityAssociation')) {
      add(association.properties.ClusterName, association.properties.Namespace, association.properties.ServiceAccount, association);
    }
    const violations: string[] = [];
    for (const addon of deployment.resources('AWS::EKS::Addon')) {
      for (const association of addon.properties.PodIdentityAssociations ?? []) {
        const namespace = ADDON_NAMESPACES[addon.properties.AddonName];
        if (!namespace) {
          violations.push(`${where(addon)}: add-on ${addon.properties.AddonName} has Pod Identity associations, but its namespace is not in the rule's table`);
          continue;
        }
        add(addon.properties.ClusterName, namespace, association.ServiceAccount, addon);
      }
    }
    for (const [key, found] of owners) {
      if (found.length > 1) violations.push(`${key}: ${found.length} associations (${found.join(', ')})`);
    }
    return violations;
  },
};

/** The cluster a `ClusterName` value names, as one key whichever template it is read in. */
function clusterKey(deployment: Deployment, resource: DeployedResource, value: any): string {
  const cluster = deployment.target(resource.template, value);
  return cluster ? `${cluster.template.path}#${cluster.logicalId}` : flatten(value);
}

/**
 * KMS refuses a key policy whose principals do not exist ("The principals in the
 * key policy must exist and be visible to KMS"): a role named by ARN that nothing
 * in the deployment creates first, such as a service-linked role that appears
 * only when its service is first used, fails the key in a fresh account.
 */
export const keyPolicyPrincipalsExist: DeployRule = {
  id: 'key-policy-principals-exist',
  constraint: 'Every AWS principal of a key policy is the account root, `*` under conditions, or a role or user the deployment creates before the key.',
  source: 'https://docs.aws.amazon.com/kms/latest/APIReference/API_CreateKey.html#KMS-CreateKey-request-Policy',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const key of deployment.resources('AWS::KMS::Key')) {
      for (const statement of statements(key.properties.KeyPolicy)) {
        const principal = statement.Principal;
        const awsPrincipals = principal === '*' ? ['*'] : list(principal?.AWS);
        for (const value of awsPrincipals) {
          const text = flatten(value);
          const created = typeof value === 'object' && deployment.target(key.template, value) !== undefined;
          const root = /:root$/.test(text) || /^\d{12}$/.test(text) || text === '<ref:AWS::AccountId>';
          const conditioned = text === '*' && statement.Condition !== undefined;
          if (!created && !root && !conditioned) {
            violations.push(`${where(key)}: key policy names ${text}, which the deployment does not create`);
          }
        }
      }
    }
    return violations;
  },
};

/** The IAM policy documents attached to `role`: its inline policies, and policies that name it. */
export function roleDocuments(deployment: Deployment, role: DeployedResource): any[] {
  const documents = (role.properties.Policies ?? []).map((policy: any) => policy.PolicyDocument);
  for (const arn of role.properties.ManagedPolicyArns ?? []) {
    const managed = deployment.target(role.template, arn);
    if (managed) documents.push(managed.properties.PolicyDocument);
  }
  for (const policy of deployment.resources('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) {
    const named = list(policy.properties.Roles).some(value => {
      const target = deployment.target(policy.template, value);
      return target !== undefined && target.template === role.template && target.logicalId === role.logicalId;
    });
    if (named) documents.push(policy.properties.PolicyDocument);
  }
  return documents;
}

/**
 * RDS Proxy logs in to the database either with the secrets of its `Auth` list
 * (one per database user) or, with `DefaultAuthScheme: IAM_AUTH`, with IAM as the
 * client's own user; then its role needs `rds-db:connect` on the target
 * instance for each user. A client that signs in as a user the proxy cannot log
 * in as gets an authentication error.
 */
export const proxyLogsInAsItsClients: DeployRule = {
  id: 'proxy-logs-in-as-its-clients',
  constraint: 'Every database user granted `rds-db:connect` on a proxy is one the proxy can log in as: end-to-end IAM with `rds-db:connect` on the target instance for that user.',
  source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/rds-proxy-iam-setup.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const proxy of deployment.resources('AWS::RDS::DBProxy')) {
      const users = new Set<string>();
      for (const policy of deployment.resources('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) {
        for (const statement of statements(policy.properties.PolicyDocument)) {
          if (!list(statement.Action).includes('rds-db:connect')) continue;
          for (const resource of list(statement.Resource)) {
            const named = references(resource).some(value => {
              const target = deployment.target(policy.template, value);
              return target?.template === proxy.template && target.logicalId === proxy.logicalId;
            });
            if (named) users.add(flatten(resource).split('/').pop()!);
          }
        }
      }
      if (users.size === 0) continue;
      if (proxy.properties.DefaultAuthScheme !== 'IAM_AUTH') {
        violations.push(`${where(proxy)}: clients sign in as ${[...users].join(', ')}, but the proxy logs in with the secrets of Auth only`);
        continue;
      }
      const role = deployment.target(proxy.template, proxy.properties.RoleArn);
      const targets = deployment.resources('AWS::RDS::DBProxyTargetGroup')
        .filter(group => deployment.target(group.template, group.properties.DBProxyName)?.logicalId === proxy.logicalId)
        .flatMap(group => list(group.properties.DBInstanceIdentifiers).map(id => deployment.target(group.template, id)))
        .filter((instance): instance is DeployedResource => instance !== undefined);
      const granted = role ? roleDocuments(deployment, role).flatMap(statements)
        .filter(statement => statement.Effect === 'Allow' && list(statement.Action).includes('rds-db:connect'))
        .flatMap(statement => list(statement.Resource)) : [];
      for (const instance of targets) {
        for (const user of users) {
          const ok = granted.some(resource => (flatten(resource).endsWith(`/${user}`) || flatten(resource).endsWith('/*')) &&
            references(resource).some(value => deployment.target(proxy.template, value)?.logicalId === instance.logicalId));
          if (!ok) violations.push(`${where(proxy)}: its role may not connect to ${where(instance)} as ${user}`);
        }
      }
    }
    return violations;
  },
};

/**
 * A Kafka client with IAM authentication starts from the bootstrap brokers,
 * which MSK gives only through `GetBootstrapBrokers` (CloudFormation returns no
 * such attribute): a client that may connect must also be able to find them.
 */
export const kafkaClientsFindTheBrokers: DeployRule = {
  id: 'kafka-clients-find-the-brokers',
  constraint: 'Every role allowed `kafka-cluster:Connect` may also call `kafka:GetBootstrapBrokers` on that cluster.',
  source: 'https://docs.aws.amazon.com/msk/latest/developerguide/msk-get-bootstrap-brokers.html',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const policy of deployment.resources('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) {
      const all = statements(policy.properties.PolicyDocument).filter(statement => statement.Effect === 'Allow');
      const connects = all.some(statement => list(statement.Action).includes('kafka-cluster:Connect'));
      const bootstraps = all.some(statement => list(statement.Action).includes('kafka:GetBootstrapBrokers'));
      if (connects && !bootstraps) violations.push(`${where(policy)}: may connect to Kafka but not read its bootstrap brokers`);
    }
    return violations;
  },
};

/**
 * IAM authentication signs in as an existing database user with the `rds_iam`
 * role; RDS creates no user. Every user a role may connect as (`rds-db:connect`
 * on `dbuser:<resource>/<user>`) must be made by the deployment, or the first
 * request fails until someone runs SQL by hand.
 */
export const databaseUsersExist: DeployRule = {
  id: 'database-users-exist',
  constraint: 'Every database user granted `rds-db:connect` is made on deploy (listed by a Custom::DatabaseUsers of that database).',
  source: 'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/UsingWithRDS.IAMDBAuth.DBAccounts.html',
  check(deployment: Deployment): string[] {
    const made = new Set(deployment.resources('Custom::DatabaseUsers').flatMap(resource => list<string>(resource.properties.Users)));
    const violations = new Set<string>();
    for (const policy of deployment.resources('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) {
      for (const statement of statements(policy.properties.PolicyDocument)) {
        if (!list(statement.Action).includes('rds-db:connect')) continue;
        for (const resource of list(statement.Resource)) {
          const text = flatten(resource);
          const tag = /\$\{aws:PrincipalTag\/([^}]+)\}$/.exec(text)?.[1];
          // A policy variable names the user through each attached role's tag.
          const users = tag
            ? list(policy.properties.Roles).map(value => deployment.target(policy.template, value))
              .map(role => list(role?.properties.Tags).find((entry: any) => entry.Key === tag)?.Value ?? `(no ${tag} tag on ${role ? where(role) : 'a role'})`)
            : [text.split('/').pop()!];
          for (const user of users.filter(name => name !== '*' && !made.has(name))) {
            violations.add(`${where(policy)}: grants connecting as ${user}, whom nothing makes in the database`);
          }
        }
      }
    }
    return [...violations];
  },
};

/**
 * A key lets grants be made only for AWS resources. A statement that allows
 * `kms:CreateGrant` (other than the administrators' `kms:*`) carries
 * `kms:GrantIsForAWSResource`, and every key denies grants that neither a service
 * acting for a resource nor a service principal asks for: the statement AWS
 * Control Tower's CT.KMS.PR.3 requires, in the form its Guard rule matches
 * (Principal `*`, Resource `*`, `BoolIfExists` with the string `false` on both keys,
 * nothing else). Except the key of an EKS cluster's secrets: EKS creates that grant
 * as the cluster's creator without `kms:GrantIsForAWSResource`, and a key policy
 * that conditions CreateGrant on it makes the cluster's create fail.
 */
export const keyGrantsOnlyForAwsResources: DeployRule = {
  id: 'key-grants-only-for-aws-resources',
  constraint: 'Every key policy statement that allows `kms:CreateGrant` (other than the administrators\' `kms:*`) carries ' +
    '`Bool: { kms:GrantIsForAWSResource: true }`, and every key has CT.KMS.PR.3\'s Deny of `kms:CreateGrant` for principals that are not AWS services, ' +
    'but an EKS cluster\'s secrets key, whose CreateGrant no Deny conditions on `kms:GrantIsForAWSResource`.',
  source: 'https://docs.aws.amazon.com/kms/latest/developerguide/conditions-kms.html#conditions-kms-grant-is-for-aws-resource; ' +
    'https://docs.aws.amazon.com/controltower/latest/controlreference/kms-rules.html (CT.KMS.PR.3, rule kms_create_grant_aws_service_check); ' +
    'https://docs.aws.amazon.com/eks/latest/userguide/enable-kms.html ("Amazon EKS doesn\'t support the policy condition kms:GrantIsForAWSResource")',
  check(deployment: Deployment): string[] {
    const secretsKeys = new Set(deployment.resources('AWS::EKS::Cluster')
      .flatMap(cluster => list(cluster.properties.EncryptionConfig)
        .map((config: any) => deployment.target(cluster.template, config.Provider?.KeyArn)))
      .filter((key): key is NonNullable<typeof key> => key?.type === 'AWS::KMS::Key'));
    return deployment.resources('AWS::KMS::Key').flatMap(key => {
      const keyStatements = list(key.properties.KeyPolicy?.Statement);
      const open = keyStatements
        .filter((statement: any) => statement.Effect === 'Allow' && list(statement.Action).includes('kms:CreateGrant'))
        .filter((statement: any) => statement.Condition?.Bool?.['kms:GrantIsForAWSResource'] !== true)
        .map((statement: any) => `${where(key)}: lets ${JSON.stringify(statement.Principal)} create grants for any grantee`);
      const denies = keyStatements.some((statement: any) => statement.Effect === 'Deny'
        && list(statement.Action).every(action => action === 'kms:CreateGrant')
        && (statement.Principal === '*' || statement.Principal?.AWS === '*')
        && list(statement.Resource).every(resource => resource === '*')
        && Object.keys(statement.Condition ?? {}).join() === 'BoolIfExists'
        && Object.entries(statement.Condition.BoolIfExists).map(([name, value]) => `${name}=${value}`).sort().join()
          === 'aws:PrincipalIsAWSService=false,kms:GrantIsForAWSResource=false');
      if ([...secretsKeys].some(secrets => secrets.logicalId === key.logicalId && secrets.template === key.template)) {
        const conditioned = keyStatements.some((statement: any) => statement.Effect === 'Deny' && list(statement.Action).includes('kms:CreateGrant')
          && JSON.stringify(statement.Condition ?? {}).includes('kms:GrantIsForAWSResource'));
        return conditioned ? [...open, `${where(key)}: encrypts an EKS cluster's secrets, and denies CreateGrant without kms:GrantIsForAWSResource: ` +
          'EKS creates that grant without it, so the cluster\'s create fails'] : open;
      }
      return denies ? open : [...open, `${where(key)}: does not deny grants that no AWS service asks for (CT.KMS.PR.3)`];
    });
  },
};

/**
 * IAM sign-in to ElastiCache checks `elasticache:Connect` on both the cache and
 * the user; the user must exist and sign in with IAM.
 */
export const cacheConnectNamesCacheAndUser: DeployRule = {
  id: 'cache-connect-names-cache-and-user',
  constraint: 'Every statement that allows `elasticache:Connect` names a replication group and a user, and each user it names is an IAM user of the deployment.',
  source: 'https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/auth-iam.html#auth-iam-setup ("elasticache:Connect" on the replication group and the user)',
  check(deployment: Deployment): string[] {
    const iamUsers = new Set(deployment.resources('AWS::ElastiCache::User')
      .filter(user => user.properties.AuthenticationMode?.Type === 'iam').map(user => user.properties.UserId));
    const violations: string[] = [];
    for (const policy of deployment.resources('AWS::IAM::Policy', 'AWS::IAM::ManagedPolicy')) {
      for (const statement of statements(policy.properties.PolicyDocument)) {
        if (statement.Effect !== 'Allow' || !list(statement.Action).includes('elasticache:Connect')) continue;
        const resources = list(statement.Resource).map(flatten);
        if (!resources.some(arn => arn.includes(':replicationgroup:'))) violations.push(`${where(policy)}: allows elasticache:Connect on no replication group`);
        const users = resources.filter(arn => arn.includes(':user:')).map(arn => arn.split(':user:')[1]);
        if (users.length === 0) violations.push(`${where(policy)}: allows elasticache:Connect as no user`);
        for (const user of users.filter(name => !iamUsers.has(name))) {
          violations.push(`${where(policy)}: allows elasticache:Connect as ${user}, which is no IAM user of the deployment`);
        }
      }
    }
    return violations;
  },
};
