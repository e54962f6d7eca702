import * as ec2 from 'aws-cdk-lib/aws-ec2';
import { PlatformProfile } from '../profile';

/**
 * What the platform wires into every data store: where it runs and which
 * profile's defaults it uses.
 */
export interface DataStoreProps {
  /** The VPC of the data store. */
  readonly vpc: ec2.IVpc;

  /**
   * The subnets of the data store.
   *
   * @default - the VPC's isolated subnets, or its private subnets when it has no isolated ones
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * The profile whose defaults apply.
   *
   * @default PlatformProfile.PRODUCTION
   */
  readonly profile?: PlatformProfile;
}
