import { Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Network, NetworkProps, PlatformProfile } from '../../src';
import { TEST_ENV, testStack } from '../support/app';

function subnetCidrs(template: Template, type: 'Public' | 'Private' | 'Isolated'): string[] {
  const subnets = template.findResources('AWS::EC2::Subnet', {
    Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: type }]) },
  });
  return Object.values(subnets).map(subnet => subnet.Properties.CidrBlock).sort();
}

function broughtVpc(stack: Stack, vpcCidrBlock: string = '172.16.0.0/16'): ec2.IVpc {
  return ec2.Vpc.fromVpcAttributes(stack, 'Brought', {
    vpcId: 'vpc-0123456789abcdef0',
    vpcCidrBlock,
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
    privateSubnetRouteTableIds: ['rtb-0aaaaaaaaaaaaaaa1', 'rtb-0aaaaaaaaaaaaaaa2'],
  });
}

describe('Network', () => {
  describe('with defaults', () => {
    const stack = testStack();
    const network = new Network(stack, 'Network');
    const template = Template.fromStack(stack);

    test('creates the 10.0.0.0/16 VPC with DNS', () => {
      template.resourceCountIs('AWS::EC2::VPC', 1);
      template.hasResourceProperties('AWS::EC2::VPC', {
        CidrBlock: '10.0.0.0/16',
        EnableDnsHostnames: true,
        EnableDnsSupport: true,
      });
    });

    test('spans two zones with public /24, private /19 and isolated /24 subnets', () => {
      expect(subnetCidrs(template, 'Public')).toEqual(['10.0.0.0/24', '10.0.1.0/24']);
      expect(subnetCidrs(template, 'Private')).toEqual(['10.0.32.0/19', '10.0.64.0/19']);
      expect(subnetCidrs(template, 'Isolated')).toEqual(['10.0.96.0/24', '10.0.97.0/24']);
      expect(network.vpc.availabilityZones).toHaveLength(2);
    });

    test('assigns no public IP addresses in any subnet', () => {
      const subnets = template.findResources('AWS::EC2::Subnet');
      for (const subnet of Object.values(subnets)) {
        expect(subnet.Properties.MapPublicIpOnLaunch).toBe(false);
      }
    });

    test('puts a NAT gateway in every zone', () => {
      template.resourceCountIs('AWS::EC2::NatGateway', 2);
    });

    test('routes S3 through a gateway endpoint', () => {
      template.resourceCountIs('AWS::EC2::VPCEndpoint', 1);
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Gateway',
        ServiceName: Match.objectLike({ 'Fn::Join': ['', Match.arrayWith(['.s3'])] }),
      });
    });

    test('closes the default security group', () => {
      template.resourceCountIs('Custom::VpcRestrictDefaultSG', 1);
    });

    test('sends all traffic to an encrypted flow log group kept for a year and retained', () => {
      template.hasResourceProperties('AWS::EC2::FlowLog', {
        ResourceType: 'VPC',
        TrafficType: 'ALL',
        LogDestinationType: 'cloud-watch-logs',
        LogGroupName: { Ref: Match.stringLikeRegexp('^NetworkFlowLogGroup') },
        DeliverLogsPermissionArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkFlowLogRole'), 'Arn'] },
      });
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: {
          RetentionInDays: 365,
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkFlowLogKey'), 'Arn'] },
        },
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
      });
      expect(network.flowLogGroup).toBeDefined();
    });

    test('encrypts flow logs with a rotated key that CloudWatch Logs may use for this account only', () => {
      template.hasResource('AWS::KMS::Key', {
        Properties: {
          EnableKeyRotation: true,
          KeyPolicy: {
            Statement: Match.arrayWith([Match.objectLike({
              Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
              Condition: {
                ArnLike: {
                  'kms:EncryptionContext:aws:logs:arn': {
                    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']],
                  },
                },
              },
            })]),
          },
        },
        DeletionPolicy: 'Retain',
      });
    });

    test('delivers flow logs with a role that trusts only this account\'s flow logs and has a managed policy', () => {
      template.hasResourceProperties('AWS::IAM::Role', {
        AssumeRolePolicyDocument: {
          Statement: [Match.objectLike({
            Principal: { Service: 'vpc-flow-logs.amazonaws.com' },
            Condition: {
              StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
              ArnLike: { 'aws:SourceArn': Match.anyValue() },
            },
          })],
        },
        ManagedPolicyArns: [{ Ref: Match.stringLikeRegexp('^NetworkFlowLogPolicy') }],
      });
      template.hasResourceProperties('AWS::IAM::ManagedPolicy', {
        PolicyDocument: {
          Statement: [{
            Effect: 'Allow',
            Action: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkFlowLogGroup'), 'Arn'] },
          }],
        },
      });
      template.resourceCountIs('AWS::IAM::Policy', 0);
    });

    test('creates the workloads\' security group, open outbound and closed inbound', () => {
      template.resourceCountIs('AWS::EC2::SecurityGroup', 1);
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        GroupDescription: 'EKS nodes and pods: the only clients the data stores admit',
        SecurityGroupEgress: [{ CidrIp: '0.0.0.0/0', IpProtocol: '-1', Description: 'Allow all outbound traffic by default' }],
        SecurityGroupIngress: Match.absent(),
      });
      expect(network.workloadSecurityGroup.node.path).toBe('Test/Network/WorkloadSecurityGroup');
    });

    test('creates no interface endpoints and selects isolated subnets for data', () => {
      template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 0);
      expect(network.interfaceEndpoints).toEqual({});
      expect(network.dataSubnets).toEqual({ subnetType: ec2.SubnetType.PRIVATE_ISOLATED });
      expect(network.privateSubnets).toEqual({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
    });

    test('warns about nothing', () => {
      Annotations.fromStack(stack).hasNoWarning('*', Match.anyValue());
    });
  });

  test('development profile: one NAT gateway and a month of flow logs', () => {
    const stack = testStack();
    new Network(stack, 'Network', { profile: PlatformProfile.DEVELOPMENT });
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::NatGateway', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  describe('Availability Zones the stack can know', () => {
    function zoneWarnings(stack: Stack): string[] {
      return Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('codelearn:network-zones'))
        .map(warning => String(warning.entry.data).replace(/ \[ack: .*$/, ''));
    }

    test('an environment-agnostic stack asked for three zones spans the two it knows, and says how to get three', () => {
      const stack = testStack();
      new Network(stack, 'Network', { maxAzs: 3 });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::EC2::Subnet', 6);
      template.resourceCountIs('AWS::EC2::NatGateway', 2);
      expect(zoneWarnings(stack)).toEqual([
        '`maxAzs` (3) is more than the 2 Availability Zones an environment-agnostic stack can know: the VPC spans 2. ' +
        'For 3, name them in `availabilityZones` (a stack with only a region takes them offline), or give the stack an account ' +
        'and region and commit the region\'s zones in cdk.context.json (the README\'s "Offline synthesis").',
      ]);
    });

    test('a stack with an account and region asked for more zones than its context lists spans those, with a warning', () => {
      const stack = testStack({ env: { account: '123456789012', region: 'eu-west-1' } });
      stack.node.setContext('availability-zones:account=123456789012:region=eu-west-1', ['eu-west-1a', 'eu-west-1b', 'eu-west-1c']);
      new Network(stack, 'Network', { maxAzs: 4 });
      Template.fromStack(stack).resourceCountIs('AWS::EC2::Subnet', 9);
      expect(zoneWarnings(stack)).toEqual([
        '`maxAzs` (4) is more than the 3 Availability Zones that this stack knows in eu-west-1 (cdk.context.json): the VPC spans 3. ' +
        'Use 3 or fewer, or name the zones in `availabilityZones`.',
      ]);
    });

    test('a stack with only a region where subnets are placed by zone ID gets every zone it asks for, offline', () => {
      const stack = testStack({ env: { region: 'us-east-1' } });
      new Network(stack, 'Network', { maxAzs: 3 });
      const template = Template.fromStack(stack);
      const zoneIds = Object.values(template.findResources('AWS::EC2::Subnet')).map(subnet => subnet.Properties.AvailabilityZoneId);
      expect([...new Set(zoneIds)].sort()).toEqual(['use1-az1', 'use1-az2', 'use1-az4']);
      expect(Object.values(template.findResources('AWS::EC2::Subnet')).every(subnet => subnet.Properties.AvailabilityZone === undefined)).toBe(true);
      template.resourceCountIs('AWS::EC2::NatGateway', 3);
      expect(zoneWarnings(stack)).toEqual([]);
    });

    test('named zones are used as given, without a warning', () => {
      const stack = testStack({ env: { region: 'eu-west-1' } });
      new Network(stack, 'Network', { availabilityZones: ['eu-west-1a', 'eu-west-1b', 'eu-west-1c'] });
      const template = Template.fromStack(stack);
      template.resourceCountIs('AWS::EC2::Subnet', 9);
      template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: 'eu-west-1c' });
      expect(zoneWarnings(stack)).toEqual([]);
    });
  });

  describe('with every option', () => {
    const stack = testStack({ env: TEST_ENV });
    const key = new kms.Key(stack, 'Key', { enableKeyRotation: true });
    const network = new Network(stack, 'Network', {
      cidr: '10.20.0.0/18',
      availabilityZones: ['us-east-1a', 'us-east-1b', 'us-east-1c'],
      natGateways: 2,
      interfaceEndpoints: Network.eksInterfaceEndpoints(),
      flowLogRetention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const template = Template.fromStack(stack);

    test('carves subnets relative to the block in the given zones', () => {
      template.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.20.0.0/18' });
      expect(subnetCidrs(template, 'Public')).toEqual(['10.20.0.0/26', '10.20.0.128/26', '10.20.0.64/26']);
      expect(subnetCidrs(template, 'Private')).toEqual(['10.20.16.0/21', '10.20.24.0/21', '10.20.8.0/21']);
      expect(subnetCidrs(template, 'Isolated')).toEqual(['10.20.32.0/26', '10.20.32.128/26', '10.20.32.64/26']);
      expect(network.vpc.availabilityZones).toEqual(['us-east-1a', 'us-east-1b', 'us-east-1c']);
    });

    test('creates the NAT gateways asked for and warns that a zone has none', () => {
      template.resourceCountIs('AWS::EC2::NatGateway', 2);
      Annotations.fromStack(stack).hasWarning('/Test/Network',
        Match.stringLikeRegexp('`natGateways` \\(2\\) is below the number of Availability Zones \\(3\\)'));
    });

    test('creates each interface endpoint in the private subnets behind one HTTPS-only security group', () => {
      template.resourcePropertiesCountIs('AWS::EC2::VPCEndpoint', { VpcEndpointType: 'Interface' }, 12);
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcEndpointType: 'Interface',
        ServiceName: 'com.amazonaws.us-east-1.ecr.api',
        PrivateDnsEnabled: true,
        SubnetIds: Match.arrayWith([{ Ref: Match.stringLikeRegexp('^NetworkVpcPrivateSubnet1') }]),
        SecurityGroupIds: [{ 'Fn::GetAtt': [Match.stringLikeRegexp('^NetworkEndpointSecurityGroup'), 'GroupId'] }],
      });
      template.resourceCountIs('AWS::EC2::SecurityGroup', 2);
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupIngress: [{ CidrIp: '10.20.0.0/18', IpProtocol: 'tcp', FromPort: 443, ToPort: 443, Description: 'HTTPS from the VPC' }],
        SecurityGroupEgress: [Match.objectLike({ CidrIp: '255.255.255.255/32' })],
      });
      expect(Object.keys(network.interfaceEndpoints).sort()).toEqual([
        'autoscaling', 'ec2', 'ecr.api', 'ecr.dkr', 'eks-auth', 'elasticloadbalancing',
        'kms', 'logs', 'monitoring', 'secretsmanager', 'sts', 'xray',
      ]);
    });

    test('uses the given key, retention and removal policy', () => {
      template.resourceCountIs('AWS::KMS::Key', 1);
      template.hasResource('AWS::Logs::LogGroup', {
        Properties: {
          RetentionInDays: 90,
          KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Key'), 'Arn'] },
        },
        DeletionPolicy: 'Delete',
      });
    });
  });

  describe('with a brought VPC', () => {
    test('creates nothing but the endpoints asked for and selects private subnets for data', () => {
      const stack = testStack();
      const vpc = broughtVpc(stack);
      const network = new Network(stack, 'Network', {
        vpc,
        interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.STS],
      });
      const template = Template.fromStack(stack);
      expect(network.vpc).toBe(vpc);
      expect(network.flowLogGroup).toBeUndefined();
      expect(network.dataSubnets).toEqual({ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
      template.resourceCountIs('AWS::EC2::VPC', 0);
      template.resourceCountIs('AWS::EC2::FlowLog', 0);
      template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
        VpcId: 'vpc-0123456789abcdef0',
        SubnetIds: ['subnet-0aaaaaaaaaaaaaaa1', 'subnet-0aaaaaaaaaaaaaaa2'],
      });
      template.hasResourceProperties('AWS::EC2::SecurityGroup', {
        SecurityGroupIngress: [Match.objectLike({ CidrIp: '172.16.0.0/16', FromPort: 443 })],
      });
      expect(Object.keys(template.toJSON().Resources)).toHaveLength(3);
    });
  });

  describe('fails on bad input', () => {
    const cases: [string, (stack: Stack) => NetworkProps, string][] = [
      ['an invalid CIDR', () => ({ cidr: '10.0.0/16' }),
        '`cidr` (\'10.0.0/16\') is not an IPv4 CIDR block: write it as \'10.0.0.0/16\'.'],
      ['a CIDR with an octet out of range', () => ({ cidr: '10.300.0.0/16' }),
        '`cidr` (\'10.300.0.0/16\') is not an IPv4 CIDR block: write it as \'10.0.0.0/16\'.'],
      ['a CIDR with host bits', () => ({ cidr: '10.0.0.1/16' }),
        '`cidr` (\'10.0.0.1/16\') has host bits set: use its network address \'10.0.0.0/16\'.'],
      ['a CIDR too large for a VPC', () => ({ cidr: '10.0.0.0/8' }),
        '`cidr` (\'10.0.0.0/8\') is larger than a VPC can be: use a prefix from /16 to /20.'],
      ['a CIDR too small for pods', () => ({ cidr: '10.0.0.0/24' }),
        '`cidr` (\'10.0.0.0/24\') is too small: every pod takes an IP address from the private subnets, so the block must be /20 or larger (a /16 is the default).'],
      ['one Availability Zone', () => ({ maxAzs: 1 }),
        '`maxAzs` (1) must be a whole number of at least 2: EKS and Multi-AZ data stores need two zones, in the development profile too. Use 2 or more.'],
      ['one Availability Zone in development', () => ({ maxAzs: 1, profile: PlatformProfile.DEVELOPMENT }),
        '`maxAzs` (1) must be a whole number of at least 2: EKS and Multi-AZ data stores need two zones, in the development profile too. Use 2 or more.'],
      ['a fractional zone count', () => ({ maxAzs: 2.5 }),
        '`maxAzs` (2.5) must be a whole number of at least 2: EKS and Multi-AZ data stores need two zones, in the development profile too. Use 2 or more.'],
      ['a single listed zone', () => ({ availabilityZones: ['us-east-1a'] }),
        '`availabilityZones` ([us-east-1a]) lists 1 zone(s): EKS and Multi-AZ data stores need at least 2. List two or more.'],
      ['a zone listed twice', () => ({ availabilityZones: ['us-east-1a', 'us-east-1a'] }),
        '`availabilityZones` ([us-east-1a, us-east-1a]) lists a zone twice: list each zone once.'],
      ['zones and a zone count', () => ({ availabilityZones: ['us-east-1a', 'us-east-1b'], maxAzs: 2 }),
        '`availabilityZones` and `maxAzs` are both set: set one of them.'],
      ['no NAT gateway', () => ({ natGateways: 0 }),
        '`natGateways` (0) must be a whole number from 1 to the number of Availability Zones (2): the EKS nodes in the private subnets need egress. Use 1 to save cost, or one per zone for availability.'],
      ['more NAT gateways than zones', () => ({ natGateways: 3 }),
        '`natGateways` (3) must be a whole number from 1 to the number of Availability Zones (2): the EKS nodes in the private subnets need egress. Use 1 to save cost, or one per zone for availability.'],
      ['an endpoint listed twice', () => ({ interfaceEndpoints: [ec2.InterfaceVpcEndpointAwsService.STS, ec2.InterfaceVpcEndpointAwsService.STS] }),
        '`interfaceEndpoints` lists \'sts\' twice: list each service once.'],
      ['a brought VPC with options for a new one', stack => ({ vpc: broughtVpc(stack), cidr: '10.0.0.0/16', natGateways: 1 }),
        '`vpc` is set, so `cidr`, `natGateways` cannot be: they shape a new VPC and do not apply to one you bring. Remove `cidr`, `natGateways`, or remove `vpc` to let the network create the VPC.'],
      ['a brought VPC with private subnets in one zone', stack => ({
        vpc: ec2.Vpc.fromVpcAttributes(stack, 'OneZone', {
          vpcId: 'vpc-1', availabilityZones: ['us-east-1a'], privateSubnetIds: ['subnet-1'],
        }),
      }),
      '`vpc` has private subnets with egress in 1 Availability Zone(s): EKS needs them in at least 2. Bring a VPC with private subnets in two or more zones, or leave `vpc` unset to create one.'],
    ];

    test.each(cases)('%s', (_name, props, message) => {
      const stack = testStack();
      expect(() => new Network(stack, 'Network', props(stack))).toThrow(new Error(message));
    });

    test('more zones than EKS supports in the region', () => {
      const stack = testStack({ env: { account: '123456789012', region: 'us-west-1' } });
      stack.node.setContext('availability-zones:account=123456789012:region=us-west-1', ['us-west-1a', 'us-west-1b', 'us-west-1c']);
      expect(() => new Network(stack, 'Network', { maxAzs: 3 })).toThrow(new Error(
        '`maxAzs` (3) is more than the Availability Zones EKS supports in us-west-1 (usw1-az1, usw1-az3): use 2 or fewer.'));
    });

    test('a CIDR token', () => {
      const stack = testStack();
      expect(() => new Network(stack, 'Network', { cidr: Lazy.string({ produce: () => '10.0.0.0/16' }) }))
        .toThrow(new Error('`cidr` must be a literal such as \'10.0.0.0/16\', not a token: subnets are carved from it at synth time.'));
    });
  });
});
