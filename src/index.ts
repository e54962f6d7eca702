export * from './profile';
export * from './compliance-checks';
export * from './platform';
export * from './service-definition';
export * from './network';
export * from './data';
export * from './compute';
export * from './edge';
