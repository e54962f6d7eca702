export * from './cluster';
export * from './microservice';
export * from './node-scaling';
export * from './workload-cluster';
