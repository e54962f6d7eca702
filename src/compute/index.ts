export * from './cluster';
export * from './node-scaling';
