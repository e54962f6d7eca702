import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';
import { WorkloadOptions } from './workload-options';
import { ConfigurationError } from '../private/errors';
import { serviceRepository } from '../private/repository';
import { requireImage, requireImageTag, requireWholeNumber } from '../private/validate';

/*
 * What every workload (a Microservice, a SandboxService) checks of its
 * `WorkloadOptions`, and how it finds its image. Not exported from the library.
 */

/** The numeric user and group a workload runs as unless told: not root, outside the usual system range. */
const DEFAULT_USER = 10001;

/** A workload's options, checked, with their defaults. */
export interface CheckedWorkload {
  readonly port: number;
  readonly minReplicas: number;
  readonly maxReplicas: number;
  readonly healthCheckPath: string;
  readonly runAsUser: number;
  readonly runAsGroup: number;
}

/** Checks the options every workload has; `repository` is the one it was given, if any. */
export function checkWorkload(props: WorkloadOptions, repository?: ecr.IRepository): CheckedWorkload {
  const checked = {
    port: props.port ?? 8080,
    minReplicas: props.minReplicas ?? 2,
    maxReplicas: props.maxReplicas ?? 10,
    healthCheckPath: props.healthCheckPath ?? '/health',
    runAsUser: props.runAsUser ?? DEFAULT_USER,
    runAsGroup: props.runAsGroup ?? DEFAULT_USER,
  };
  requireWholeNumber('port', checked.port, 1024, 65535);
  requireWholeNumber('minReplicas', checked.minReplicas, 1, 100);
  requireWholeNumber('maxReplicas', checked.maxReplicas, 1, 500);
  if (checked.maxReplicas < checked.minReplicas) {
    throw new ConfigurationError(`\`maxReplicas\` (${checked.maxReplicas}) must be >= \`minReplicas\` (${checked.minReplicas}).`);
  }
  requireWholeNumber('runAsUser', checked.runAsUser, 1, 2_147_483_647);
  requireWholeNumber('runAsGroup', checked.runAsGroup, 1, 2_147_483_647);
  if (!checked.healthCheckPath.startsWith('/')) {
    throw new ConfigurationError(`\`healthCheckPath\` ('${checked.healthCheckPath}') must start with '/'.`);
  }
  if (props.imageTag !== undefined) requireImageTag('imageTag', props.imageTag);
  if (props.image !== undefined) requireImage('image', props.image);
  if (props.image !== undefined && repository !== undefined) {
    throw new ConfigurationError('`image` and `repository` are both set: the pods run one image. Remove `image` to run from the repository, or `repository`.');
  }
  if (props.image !== undefined && props.imageTag !== undefined) {
    throw new ConfigurationError('`image` and `imageTag` are both set: the tag applies to the service\'s own repository. Put the tag in `image`, or remove `image`.');
  }
  for (const key of Object.keys(props.environment ?? {})) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      throw new ConfigurationError(`\`environment\` has '${key}', which is not an environment variable name: use letters, digits and '_'.`);
    }
  }
  return checked;
}

/**
 * The image a workload `name` runs: `image` when given, else `imageTag` of the
 * repository it was given, else of a new repository `codelearn/<name>` in `scope`.
 */
export function workloadImage(scope: Construct, name: string, props: WorkloadOptions,
  given?: ecr.IRepository): { image: string; repository?: ecr.IRepository } {
  if (props.image) {
    return { image: props.image };
  }
  const repository = given ?? serviceRepository(scope, 'Repository', `codelearn/${name}`);
  return { image: repository.repositoryUriForTag(props.imageTag ?? '1.0.0'), repository };
}
