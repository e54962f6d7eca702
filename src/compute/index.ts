export * from './cluster';
export * from './microservice';
export * from './node-scaling';
