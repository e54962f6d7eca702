import { Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { CodeLearnPlatform } from '../src';

/**
 * The platform with the values of the Code-Learn specification: one line.
 */
export class DefaultPlatformStack extends Stack {
  public readonly platform: CodeLearnPlatform;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.platform = new CodeLearnPlatform(this, 'Platform');
  }
}
