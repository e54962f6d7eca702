import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';

/**
 * The ECR repository of one service, named `name` (`codelearn/<service>`): scanned on push,
 * immutable tags, KMS-encrypted, untagged images expired, kept on update and delete.
 */
export function serviceRepository(scope: Construct, id: string, name: string): ecr.Repository {
  return new ecr.Repository(scope, id, {
    repositoryName: name,
    imageScanOnPush: true,
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    encryption: ecr.RepositoryEncryption.KMS,
    // Named: kept on update and delete, removed when a first create rolls back.
    removalPolicy: RemovalPolicy.RETAIN_ON_UPDATE_OR_DELETE,
    lifecycleRules: [
      { description: 'Expire untagged images after a week', tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(7), rulePriority: 1 },
      { description: 'Keep the last 50 images', tagStatus: ecr.TagStatus.ANY, maxImageCount: 50, rulePriority: 2 },
    ],
  });
}
