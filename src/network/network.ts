import { Annotations, Aws, CfnCondition, CfnMapping, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { hasHostBits, networkAddress, parseIpv4Cidr } from '../private/cidr';
import { ConfigurationError } from '../private/errors';
import { allowCloudWatchLogs, customerManagedKey } from '../private/keys';
import { acknowledge, acknowledgeControlRule, acknowledgeDeployTimeCidr } from '../private/nag';
import { pascalCase } from '../private/names';
import { profileDefaults } from '../private/profile';
import { dataSubnets } from '../private/subnets';
import { PlatformProfile } from '../profile';

/**
 * What a user may set on the network.
 */
export interface NetworkOptions {
  /**
   * A VPC to use instead of creating one.
   *
   * It must have private subnets with egress in at least two Availability Zones
   * (for the EKS nodes). To a VPC you bring the network adds the workloads'
   * security group and the `interfaceEndpoints` you ask for, nothing else: flow
   * logs, NAT and gateway endpoints are yours to manage, so the options that shape
   * a new VPC cannot be combined with it.
   *
   * @default - a new VPC
   */
  readonly vpc?: ec2.IVpc;

  /**
   * The IPv4 CIDR block of the new VPC, from `/16` to `/20`.
   *
   * Each Availability Zone gets a private subnet of one eighth of the block (a
   * `/19` in a `/16`: with the VPC CNI every pod takes an IP address) and a public
   * and an isolated subnet of one 256th (a `/24` in a `/16`).
   *
   * Chosen once: a new block is a new VPC, which the data stores cannot follow,
   * so CloudFormation refuses the change on a deployed platform.
   *
   * @default '10.0.0.0/16'
   */
  readonly cidr?: string;

  /**
   * How many Availability Zones the new VPC spans, at least 2. In us-east-1,
   * us-west-1 and ca-central-1 the zones are chosen by zone ID among those EKS
   * supports.
   *
   * Environment-agnostic stacks resolve the zones at deploy time and always get two.
   *
   * @default 2
   */
  readonly maxAzs?: number;

  /**
   * The Availability Zones of the new VPC, at least 2. Cannot be combined with `maxAzs`.
   * They are used as given: zone names map to different zone IDs in each account,
   * so check that EKS supports the zones you name (it does not support use1-az3,
   * usw1-az2 and cac1-az3).
   *
   * In a stack with a fixed account and region, the CDK reads the region's zones
   * from `cdk.context.json` (and looks them up once if they are missing); commit
   * that file so that synthesis stays offline.
   *
   * @default - the first `maxAzs` zones of the stack's region
   */
  readonly availabilityZones?: string[];

  /**
   * How many NAT gateways the new VPC gets, from 1 to the number of zones.
   *
   * @default - one per Availability Zone in production, one in development
   */
  readonly natGateways?: number;

  /**
   * Interface VPC endpoints to create in the private subnets, so that traffic to
   * these AWS services stays inside the VPC. `Network.eksInterfaceEndpoints()` lists
   * the services that EKS nodes and the platform's pods call.
   *
   * @default - none: traffic to AWS services leaves through the NAT gateways
   */
  readonly interfaceEndpoints?: ec2.InterfaceVpcEndpointAwsService[];

  /**
   * How long VPC flow logs are kept.
   *
   * @default - one year in production, one month in development
   */
  readonly flowLogRetention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the flow log group.
   *
   * @default - a new customer-managed key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * What happens to the flow log group and the key the network creates when they
   * leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Properties of a `Network`.
 */
export interface NetworkProps extends NetworkOptions {
  /**
   * The profile whose defaults apply.
   *
   * @default PlatformProfile.PRODUCTION
   */
  readonly profile?: PlatformProfile;
}

const DEFAULT_CIDR = '10.0.0.0/16';
const DEFAULT_AZ_COUNT = 2;
const MIN_AZ_COUNT = 2;
const LARGEST_PREFIX = 16;
/**
 * The zones, by ID, that EKS supports in the regions where it does not support
 * them all (use1-az3, usw1-az2 and cac1-az3 are left out), in the order the
 * network uses them.
 */
const EKS_ZONE_IDS: Record<string, string[]> = {
  'us-east-1': ['use1-az1', 'use1-az2', 'use1-az4', 'use1-az5', 'use1-az6'],
  'us-west-1': ['usw1-az1', 'usw1-az3'],
  'ca-central-1': ['cac1-az1', 'cac1-az2', 'cac1-az4'],
};
const SMALLEST_PREFIX = 20;

/** Options that shape a new VPC, and so cannot be combined with `vpc`. */
const NEW_VPC_OPTIONS: (keyof NetworkOptions)[] = [
  'cidr', 'maxAzs', 'availabilityZones', 'natGateways', 'flowLogRetention', 'encryptionKey', 'removalPolicy',
];

/**
 * The platform's VPC: public, private and isolated subnets in every Availability
 * Zone, NAT gateways, an S3 gateway endpoint, optional interface endpoints, and
 * VPC flow logs to an encrypted CloudWatch log group.
 *
 * - Public subnets hold only the NAT gateways and do not assign public IP addresses.
 * - Private subnets (with egress) hold the EKS nodes, their pods and the internal
 *   load balancer; they are sized for the VPC CNI, which gives every pod an address.
 * - Isolated subnets (no route out) hold the databases, caches and brokers.
 * - The VPC's default security group has no rules.
 *
 * @example
 * const network = new Network(this, 'Network', {
 *   cidr: '10.20.0.0/16',
 *   interfaceEndpoints: Network.eksInterfaceEndpoints(),
 * });
 */
export class Network extends Construct {
  /**
   * The interface endpoints that keep the traffic of private EKS nodes and the
   * platform's pods inside the VPC: ECR, STS, EKS Auth (Pod Identity), EC2, Elastic
   * Load Balancing, Auto Scaling, CloudWatch Logs and metrics, X-Ray, Secrets
   * Manager and KMS. S3 is always reached through the gateway endpoint.
   */
  public static eksInterfaceEndpoints(): ec2.InterfaceVpcEndpointAwsService[] {
    const s = ec2.InterfaceVpcEndpointAwsService;
    return [
      s.ECR, s.ECR_DOCKER, s.STS, s.EKS_AUTH, s.EC2, s.ELASTIC_LOAD_BALANCING, s.AUTOSCALING,
      s.CLOUDWATCH_LOGS, s.CLOUDWATCH_MONITORING, s.XRAY, s.SECRETS_MANAGER, s.KMS,
    ];
  }

  /** The VPC, created or brought. */
  public readonly vpc: ec2.IVpc;

  /**
   * The VPC's IPv4 block: written literally for a VPC the network creates, so
   * that security group rules and the nag rules can read it.
   */
  public readonly cidr: string;

  /** The subnets for EKS nodes, pods and the internal load balancer. */
  public readonly privateSubnets: ec2.SubnetSelection;

  /**
   * The subnets for data stores: isolated subnets when the VPC has them, otherwise
   * its private subnets.
   */
  public readonly dataSubnets: ec2.SubnetSelection;

  /**
   * The log group that receives the VPC flow logs.
   *
   * @default - none when the VPC is brought
   */
  public readonly flowLogGroup?: logs.ILogGroup;

  /**
   * The security group of the workloads: the compute tier attaches it to the EKS
   * nodes and pods, and the data stores admit it (and nothing else) on their ports.
   * It exists before the cluster, so the data tier never waits for the cluster.
   */
  public readonly workloadSecurityGroup: ec2.SecurityGroup;

  /** The interface endpoints, keyed by the service's short name (`ecr.api`). */
  public readonly interfaceEndpoints: { [service: string]: ec2.InterfaceVpcEndpoint } = {};

  constructor(scope: Construct, id: string, props: NetworkProps = {}) {
    super(scope, id);
    const profile = props.profile ?? PlatformProfile.PRODUCTION;

    if (props.vpc) {
      rejectNewVpcOptions(props);
      validateBroughtVpc(props.vpc);
      this.vpc = props.vpc;
    } else {
      const vpc = this.createVpc(props, profile);
      this.vpc = vpc;
      this.flowLogGroup = this.createFlowLogs(vpc, props, profile);
    }

    this.privateSubnets = { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };
    this.dataSubnets = dataSubnets(this.vpc);

    this.workloadSecurityGroup = new ec2.SecurityGroup(this, 'WorkloadSecurityGroup', {
      vpc: this.vpc,
      description: 'EKS nodes and pods: the only clients the data stores admit',
      allowAllOutbound: true,
    });

    // The literal block of a new VPC lets the nag rules read the endpoint ingress rule.
    this.cidr = props.vpc ? props.vpc.vpcCidrBlock : props.cidr ?? DEFAULT_CIDR;
    this.addInterfaceEndpoints(props.interfaceEndpoints ?? [], this.cidr);
  }

  private createVpc(props: NetworkProps, profile: PlatformProfile): ec2.Vpc {
    const cidr = props.cidr ?? DEFAULT_CIDR;
    const prefix = validateCidr(cidr);
    const zones = this.zonesOf(props, validateZones(props));
    const azCount = zones.count;
    const natGateways = props.natGateways ?? (profileDefaults(profile).natGatewayPerZone ? azCount : 1);
    validateNatGateways(natGateways, azCount);
    if (profileDefaults(profile).natGatewayPerZone && natGateways < azCount) {
      Annotations.of(this).addWarningV2('codelearn:network-nat-gateways',
        `\`natGateways\` (${natGateways}) is below the number of Availability Zones (${azCount}): ` +
        'the private subnets of a zone without its own NAT gateway lose egress when that gateway\'s zone fails.');
    }

    // Masks relative to the block: private subnets take an eighth each (room for
    // one pod IP per pod), public and isolated subnets a 256th each.
    const publicAndIsolatedMask = prefix + 8;
    const privateMask = prefix + 3;

    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr(cidr),
      maxAzs: zones.names ? undefined : azCount,
      availabilityZones: zones.names,
      natGateways,
      restrictDefaultSecurityGroup: true,
      enableDnsHostnames: true,
      enableDnsSupport: true,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: publicAndIsolatedMask, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: privateMask },
        { name: 'Isolated', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: publicAndIsolatedMask },
      ],
      gatewayEndpoints: {
        S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      },
    });

    if (!props.availabilityZones) {
      this.pinEksZones(vpc, azCount);
    }

    for (const subnet of vpc.publicSubnets) {
      const route = subnet.node.tryFindChild('DefaultRoute');
      if (route) {
        acknowledgeControlRule(route, 'VPCNoUnrestrictedRouteToIGW',
          'Public subnets hold only the NAT gateways: their default route to the internet gateway is what gives ' +
          'the private subnets egress. Nothing else is placed in them and they assign no public IP addresses.');
      }
    }
    return vpc;
  }

  /**
   * The zones of a new VPC: the ones the user names, or `requested` of the
   * stack's. An environment-agnostic stack knows two zones, and a stack with an
   * account and region knows those of its `cdk.context.json`. In the regions where
   * the subnets are placed by zone ID, a stack that knows its region but not its
   * account gets every zone it asks for: the IDs place the subnets, and the names
   * are the region's zones read at deploy time. Elsewhere a request for more zones
   * than the stack knows gets the zones it knows, with a warning.
   */
  private zonesOf(props: NetworkProps, requested: number): { count: number; names?: string[] } {
    if (props.availabilityZones) {
      return { count: requested, names: props.availabilityZones };
    }
    const stack = Stack.of(this);
    const agnostic = Token.isUnresolved(stack.account) || Token.isUnresolved(stack.region);
    if (agnostic && !Token.isUnresolved(stack.region) && EKS_ZONE_IDS[stack.region]) {
      const supported = EKS_ZONE_IDS[stack.region].length;
      return { count: requested, names: Array.from({ length: Math.min(requested, supported) }, (_, index) => Fn.select(index, Fn.getAzs())) };
    }
    const known = stack.availabilityZones.length;
    if (requested > known) {
      Annotations.of(this).addWarningV2('codelearn:network-zones', agnostic
        ? `\`maxAzs\` (${requested}) is more than the ${known} Availability Zones an environment-agnostic stack can know: the VPC spans ${known}. ` +
          `For ${requested}, name them in \`availabilityZones\` (a stack with only a region takes them offline), or give the stack an account ` +
          'and region and commit the region\'s zones in cdk.context.json (the README\'s "Offline synthesis").'
        : `\`maxAzs\` (${requested}) is more than the ${known} Availability Zones that this stack knows in ${stack.region} ` +
          `(cdk.context.json): the VPC spans ${known}. Use ${known} or fewer, or name the zones in \`availabilityZones\`.`);
      return { count: known };
    }
    return { count: requested };
  }

  /**
   * EKS refuses subnets in use1-az3, usw1-az2 and cac1-az3, and a zone's name
   * (us-east-1a) stands for a different zone in each account. In those three
   * regions the subnets are placed by zone ID, on zones EKS supports; an
   * environment-agnostic stack decides at deploy time, by region.
   */
  private pinEksZones(vpc: ec2.Vpc, azCount: number): void {
    const region = Stack.of(this).region;
    const subnets = [...vpc.publicSubnets, ...vpc.privateSubnets, ...vpc.isolatedSubnets];
    const zoneIndex = (subnet: ec2.ISubnet) => vpc.availabilityZones.indexOf(subnet.availabilityZone);
    if (!Token.isUnresolved(region)) {
      const ids = EKS_ZONE_IDS[region];
      if (!ids) {
        return;
      }
      if (azCount > ids.length) {
        throw new ConfigurationError(`\`maxAzs\` (${azCount}) is more than the Availability Zones EKS supports in ${region} (${ids.join(', ')}): use ${ids.length} or fewer.`);
      }
      for (const subnet of subnets) {
        const cfn = subnet.node.defaultChild as ec2.CfnSubnet;
        cfn.availabilityZone = undefined;
        cfn.availabilityZoneId = ids[zoneIndex(subnet)];
      }
      return;
    }
    const mapping = new CfnMapping(this, 'EksZoneIds', {
      mapping: Object.fromEntries(Object.entries(EKS_ZONE_IDS).map(([name, ids]) => [name, { zone0: ids[0], zone1: ids[1] }])),
    });
    const byId = new CfnCondition(this, 'EksZonesById', {
      expression: Fn.conditionOr(...Object.keys(EKS_ZONE_IDS).map(name => Fn.conditionEquals(Aws.REGION, name))),
    });
    for (const subnet of subnets) {
      const cfn = subnet.node.defaultChild as ec2.CfnSubnet;
      cfn.availabilityZoneId = Fn.conditionIf(byId.logicalId, mapping.findInMap(Aws.REGION, `zone${zoneIndex(subnet)}`), Aws.NO_VALUE).toString();
      cfn.availabilityZone = Fn.conditionIf(byId.logicalId, Aws.NO_VALUE, subnet.availabilityZone).toString();
      acknowledge(cfn, {
        'CloudFormation-Validate::F3020': 'AvailabilityZone and AvailabilityZoneId are exclusive at deploy time: the same condition gives one ' +
          'a value and AWS::NoValue to the other, which the schema check, reading the template unresolved, cannot see.',
      });
    }
  }

  private createFlowLogs(vpc: ec2.Vpc, props: NetworkProps, profile: PlatformProfile): logs.ILogGroup {
    const stack = Stack.of(this);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const key = props.encryptionKey ?? customerManagedKey(this, 'FlowLogKey', `Encrypts the VPC flow logs of ${this.node.path}`, removalPolicy);
    allowCloudWatchLogs(key);

    const logGroup = new logs.LogGroup(this, 'FlowLogGroup', {
      retention: props.flowLogRetention ??
        profileDefaults(profile).logRetention,
      encryptionKey: key,
      removalPolicy,
    });
    // The role carries a managed policy, not an inline one, and trusts the flow
    // logs service only on behalf of this account's flow logs.
    const role = new iam.Role(this, 'FlowLogRole', {
      assumedBy: new iam.ServicePrincipal('vpc-flow-logs.amazonaws.com').withConditions({
        StringEquals: { 'aws:SourceAccount': stack.account },
        ArnLike: { 'aws:SourceArn': stack.formatArn({ service: 'ec2', resource: 'vpc-flow-log', resourceName: '*' }) },
      }),
      description: `Delivers the VPC flow logs of ${this.node.path} to CloudWatch Logs`,
    });
    role.addManagedPolicy(new iam.ManagedPolicy(this, 'FlowLogPolicy', {
      description: `Lets VPC flow logs write to the flow log group of ${this.node.path}`,
      statements: [new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [logGroup.logGroupArn],
      })],
    }));
    new ec2.FlowLog(this, 'FlowLog', {
      resourceType: ec2.FlowLogResourceType.fromVpc(vpc),
      destination: ec2.FlowLogDestination.toCloudWatchLogs(logGroup, role.withoutPolicyUpdates()),
      trafficType: ec2.FlowLogTrafficType.ALL,
    });
    return logGroup;
  }

  private addInterfaceEndpoints(services: ec2.InterfaceVpcEndpointAwsService[], vpcCidr: string): void {
    if (services.length === 0) {
      return;
    }
    // One security group serves every endpoint: HTTPS from inside the VPC only.
    const securityGroup = new ec2.SecurityGroup(this, 'EndpointSecurityGroup', {
      vpc: this.vpc,
      description: 'Interface VPC endpoints: HTTPS from inside the VPC',
      allowAllOutbound: false,
    });
    securityGroup.addIngressRule(ec2.Peer.ipv4(vpcCidr), ec2.Port.tcp(443), 'HTTPS from the VPC');
    if (Token.isUnresolved(vpcCidr)) {
      acknowledgeDeployTimeCidr(securityGroup,
        'The only ingress rule admits HTTPS from the brought VPC\'s own CIDR block, which is known only at deploy time, so the rule cannot read it.');
    }

    for (const service of services) {
      const name = service.shortName;
      if (this.interfaceEndpoints[name]) {
        throw new ConfigurationError(`\`interfaceEndpoints\` lists '${name}' twice: list each service once.`);
      }
      this.interfaceEndpoints[name] = new ec2.InterfaceVpcEndpoint(this, `Endpoint${pascalCase(name)}`, {
        vpc: this.vpc,
        service,
        subnets: this.privateSubnets,
        privateDnsEnabled: true,
        securityGroups: [securityGroup],
        open: false,
      });
    }
  }
}

function rejectNewVpcOptions(props: NetworkProps): void {
  const conflicting = NEW_VPC_OPTIONS.filter(option => props[option] !== undefined);
  if (conflicting.length > 0) {
    const names = conflicting.map(option => `\`${option}\``).join(', ');
    throw new ConfigurationError(
      `\`vpc\` is set, so ${names} cannot be: they shape a new VPC and do not apply to one you bring. ` +
      `Remove ${names}, or remove \`vpc\` to let the network create the VPC.`);
  }
}

function validateBroughtVpc(vpc: ec2.IVpc): void {
  const zones = new Set(vpc.privateSubnets.map(subnet => subnet.availabilityZone));
  if (zones.size < MIN_AZ_COUNT) {
    throw new ConfigurationError(
      `\`vpc\` has private subnets with egress in ${zones.size} Availability Zone(s): EKS needs them in at least ${MIN_AZ_COUNT}. ` +
      'Bring a VPC with private subnets in two or more zones, or leave `vpc` unset to create one.');
  }
}

function validateCidr(cidr: string): number {
  if (Token.isUnresolved(cidr)) {
    throw new ConfigurationError('`cidr` must be a literal such as \'10.0.0.0/16\', not a token: subnets are carved from it at synth time.');
  }
  const parsed = parseIpv4Cidr(cidr);
  if (!parsed) {
    throw new ConfigurationError(`\`cidr\` ('${cidr}') is not an IPv4 CIDR block: write it as '10.0.0.0/16'.`);
  }
  if (hasHostBits(parsed)) {
    throw new ConfigurationError(`\`cidr\` ('${cidr}') has host bits set: use its network address '${networkAddress(parsed)}'.`);
  }
  if (parsed.prefix < LARGEST_PREFIX) {
    throw new ConfigurationError(`\`cidr\` ('${cidr}') is larger than a VPC can be: use a prefix from /${LARGEST_PREFIX} to /${SMALLEST_PREFIX}.`);
  }
  if (parsed.prefix > SMALLEST_PREFIX) {
    throw new ConfigurationError(
      `\`cidr\` ('${cidr}') is too small: every pod takes an IP address from the private subnets, ` +
      `so the block must be /${SMALLEST_PREFIX} or larger (a /${LARGEST_PREFIX} is the default).`);
  }
  return parsed.prefix;
}

function validateZones(props: NetworkProps): number {
  if (props.availabilityZones !== undefined) {
    if (props.maxAzs !== undefined) {
      throw new ConfigurationError('`availabilityZones` and `maxAzs` are both set: set one of them.');
    }
    const zones = props.availabilityZones;
    if (zones.length < MIN_AZ_COUNT) {
      throw new ConfigurationError(
        `\`availabilityZones\` ([${zones.join(', ')}]) lists ${zones.length} zone(s): EKS and Multi-AZ data stores need at least ${MIN_AZ_COUNT}. List two or more.`);
    }
    if (new Set(zones).size !== zones.length) {
      throw new ConfigurationError(`\`availabilityZones\` ([${zones.join(', ')}]) lists a zone twice: list each zone once.`);
    }
    return zones.length;
  }
  const maxAzs = props.maxAzs ?? DEFAULT_AZ_COUNT;
  if (!Number.isInteger(maxAzs) || maxAzs < MIN_AZ_COUNT) {
    throw new ConfigurationError(
      `\`maxAzs\` (${maxAzs}) must be a whole number of at least ${MIN_AZ_COUNT}: EKS and Multi-AZ data stores need two zones, ` +
      'in the development profile too. Use 2 or more.');
  }
  return maxAzs;
}

function validateNatGateways(natGateways: number, azCount: number): void {
  if (!Number.isInteger(natGateways) || natGateways < 1 || natGateways > azCount) {
    throw new ConfigurationError(
      `\`natGateways\` (${natGateways}) must be a whole number from 1 to the number of Availability Zones (${azCount}): ` +
      'the EKS nodes in the private subnets need egress. Use 1 to save cost, or one per zone for availability.');
  }
}

