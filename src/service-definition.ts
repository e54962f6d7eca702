import { MicroserviceOptions } from './compute';

/**
 * A data store that a service of the platform uses. The platform grants the
 * service's role the access and passes the configuration (endpoints, names,
 * secret ARNs, never secret values) as environment variables.
 */
export enum DataAccess {
  /**
   * PostgreSQL through IAM authentication as the database user named after the
   * service (`user_service`), on the writer through the proxy and on the read
   * replicas: `DATABASE_HOST`, `DATABASE_READER_HOSTS` (the replicas, from the
   * `database-readers` ConfigMap; the writer without replicas), `DATABASE_PORT`,
   * `DATABASE_NAME`, `DATABASE_USER`.
   */
  DATABASE = 'DATABASE',

  /**
   * The cache: `CACHE_HOST`, `CACHE_PORT`, `CACHE_AUTH`, and the service's own
   * cache user `CACHE_USER` with `CACHE_REPLICATION_GROUP_ID` to sign its IAM
   * token (or `CACHE_AUTH_TOKEN_SECRET_ARN` with an AUTH token).
   */
  CACHE = 'CACHE',

  /**
   * The message broker: `BROKER_ENGINE`, and `BROKER_ENDPOINTS` (from the
   * `broker-endpoints` ConfigMap) with `BROKER_CREDENTIALS_SECRET_ARN` (RabbitMQ),
   * or `KAFKA_CLUSTER_ARN` with IAM (Kafka).
   */
  MESSAGING = 'MESSAGING',

  /** Read, write and delete uploads: `UPLOADS_BUCKET`. */
  UPLOADS = 'UPLOADS',

  /** Read static assets: `STATIC_ASSETS_BUCKET`. */
  STATIC_ASSETS = 'STATIC_ASSETS',
}

/**
 * One service of the platform: a `Microservice` and the data stores it uses.
 */
export interface ServiceDefinition extends MicroserviceOptions {
  /**
   * The data stores the service uses.
   *
   * @default - none
   */
  readonly access?: DataAccess[];

  /**
   * The platform's services this one calls inside the cluster, at
   * `http://<name>.<namespace>:<port>` (the callee's container port, which its
   * Service also listens on: the VPC CNI applies policies to a Service's traffic
   * only on a port equal to the container's): the network policies of both let
   * the call through.
   *
   * @default - none: the service calls no other service
   */
  readonly calls?: string[];
}
