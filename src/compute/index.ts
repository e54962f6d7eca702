export * from './cluster';
export * from './microservice';
export * from './node-scaling';
export * from './workload-cluster';
export * from './cluster-options';
export * from './microservice-options';
