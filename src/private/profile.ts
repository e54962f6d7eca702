import * as logs from 'aws-cdk-lib/aws-logs';
import { PlatformProfile } from '../profile';

/** Whether `profile` (production when unset) is the production profile. */
export function isProduction(profile?: PlatformProfile): boolean {
  return (profile ?? PlatformProfile.PRODUCTION) === PlatformProfile.PRODUCTION;
}

/** How long a log group keeps its logs unless told: a year in production, a month in development. */
export function defaultLogRetention(production: boolean): logs.RetentionDays {
  return production ? logs.RetentionDays.ONE_YEAR : logs.RetentionDays.ONE_MONTH;
}
