/**
 * How much availability the platform buys.
 *
 * Every tier reads the profile for its defaults; an explicit option always wins.
 */
export enum PlatformProfile {
  /**
   * The values of the Code-Learn specification: one NAT gateway per Availability
   * Zone, Multi-AZ data stores, read replicas and deletion protection.
   */
  PRODUCTION = 'production',

  /**
   * Trades availability for cost: one NAT gateway, a single-AZ database without a
   * replica, smaller nodes. Not for production traffic; synthesis warns about it.
   */
  DEVELOPMENT = 'development',
}
