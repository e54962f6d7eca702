import { listValuedAttributes } from '../catalogue';
import { Deployment, isLiteral } from '../deployment';
import { DeployRule, where } from '../rule';

/**
 * A nested stack's parameters are strings: CloudFormation refuses a list
 * (`Value of property Parameters must be an object with String (or simple type)
 * properties`), and a list attribute passed through would reach `Fn::Join` as a
 * string.
 */
export const nestedStackParametersAreStrings: DeployRule = {
  id: 'nested-stack-parameters-are-strings',
  constraint: 'Every value of an AWS::CloudFormation::Stack `Parameters` map is a string; list-valued attributes and functions that return lists are refused.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudformation-stack.html#cfn-cloudformation-stack-parameters',
  check(deployment: Deployment): string[] {
    const lists = listValuedAttributes();
    const violations: string[] = [];
    for (const stack of deployment.resources('AWS::CloudFormation::Stack')) {
      for (const [name, value] of Object.entries<any>(stack.properties.Parameters ?? {})) {
        const getAtt = value?.['Fn::GetAtt'];
        let listValued = ['Fn::GetAZs', 'Fn::Split', 'Fn::Cidr'].some(fn => value?.[fn] !== undefined);
        if (Array.isArray(getAtt)) {
          const target = deployment.find(stack.template, getAtt[0]);
          listValued ||= target !== undefined && lists.has(`${target.type}.${getAtt[1]}`);
        }
        if (listValued) {
          violations.push(`${where(stack)}: parameter ${name} is a list (${JSON.stringify(value)})`);
        }
      }
    }
    return violations;
  },
};

/** The property that names each resource type, when a template sets it. */
export const NAME_PROPERTIES: Record<string, string> = {
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::AmazonMQ::Broker': 'BrokerName',
  'AWS::ECR::Repository': 'RepositoryName',
  'AWS::Backup::BackupVault': 'BackupVaultName',
  'AWS::RDS::DBInstance': 'DBInstanceIdentifier',
  'AWS::RDS::DBProxy': 'DBProxyName',
  'AWS::RDS::DBParameterGroup': 'DBParameterGroupName',
  'AWS::RDS::DBSubnetGroup': 'DBSubnetGroupName',
  'AWS::EKS::Cluster': 'Name',
  'AWS::EKS::Nodegroup': 'NodegroupName',
  'AWS::MSK::Cluster': 'ClusterName',
  'AWS::ElastiCache::ReplicationGroup': 'ReplicationGroupId',
  'AWS::ElastiCache::SubnetGroup': 'CacheSubnetGroupName',
  'AWS::ElastiCache::User': 'UserId',
  'AWS::ElastiCache::UserGroup': 'UserGroupId',
  'AWS::Logs::ResourcePolicy': 'PolicyName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::KMS::Alias': 'AliasName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::WAFv2::WebACL': 'Name',
  'AWS::CloudWatch::Dashboard': 'DashboardName',
  'AWS::CloudWatch::Alarm': 'AlarmName',
  'AWS::Backup::RestoreTestingPlan': 'RestoreTestingPlanName',
};

/**
 * A resource CloudFormation keeps (`DeletionPolicy: Retain`) is kept when a
 * first create rolls back too; a fixed name then makes the retry fail with
 * "already exists". `RetainExceptOnCreate` keeps it on update and delete and
 * removes it on a rolled-back create. And what CloudFormation must delete on
 * rollback must be deletable: deletion protection on it fails the rollback.
 */
export const rolledBackCreateCanBeRetried: DeployRule = {
  id: 'rolled-back-create-can-be-retried',
  constraint: 'A resource with a fixed name is not `Retain` (use `RetainExceptOnCreate`), and a resource CloudFormation deletes on rollback has no deletion protection.',
  source: 'https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html (RetainExceptOnCreate); ' +
    'https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_DeletingInstance.html#USER_DeletionProtection',
  check(deployment: Deployment): string[] {
    const violations: string[] = [];
    for (const resource of deployment.resources()) {
      const nameProperty = NAME_PROPERTIES[resource.type];
      const name = nameProperty?.split('.').reduce((value, key) => value?.[key], resource.properties);
      if (name !== undefined && resource.resource.DeletionPolicy === 'Retain') {
        violations.push(`${where(resource)}: ${resource.type} named ${isLiteral(name) ? `'${name}'` : 'at deploy time'} is retained on a rolled-back create`);
      }
      const deletedOnRollback = [undefined, 'Delete', 'Snapshot', 'RetainExceptOnCreate'].includes(resource.resource.DeletionPolicy);
      const isReplica = resource.properties.SourceDBInstanceIdentifier !== undefined;
      // The writer is the documented exception: its deletion protection guards the
      // platform's data, and docs/operations.md says how to retry after a failed
      // first deploy (turn it off, delete the stack, deploy again).
      const isWriter = resource.type === 'AWS::RDS::DBInstance' && !isReplica;
      const loadBalancerProtected = (resource.properties.LoadBalancerAttributes ?? [])
        .some((attribute: any) => attribute.Key === 'deletion_protection.enabled' && String(attribute.Value) === 'true');
      const isProtected = resource.properties.DeletionProtection === true || resource.properties.DeletionProtectionEnabled === true ||
        loadBalancerProtected;
      if (deletedOnRollback && !isWriter && isProtected) {
        violations.push(`${where(resource)}: ${resource.type} has deletion protection, so a rolled-back create cannot delete it`);
      }
    }
    return violations;
  },
};
