// The example app: `npx projen synth:example` synthesizes it offline, with no AWS
// account. The stacks are environment-agnostic, so nothing is looked up.
import { App } from 'aws-cdk-lib';
import { ByoVpcPlatformStack } from './byo-vpc-platform';
import { CustomServicesPlatformStack } from './custom-services-platform';
import { DefaultPlatformStack } from './default-platform';
import { DevelopmentPlatformStack } from './development-platform';

const app = new App();
new DefaultPlatformStack(app, 'CodeLearnPlatform');
new DevelopmentPlatformStack(app, 'CodeLearnPlatformDev');
new CustomServicesPlatformStack(app, 'CodeLearnPlatformCustom');
new ByoVpcPlatformStack(app, 'CodeLearnPlatformByoVpc');
app.synth();
