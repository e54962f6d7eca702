export * from './profile';
export * from './compliance-checks';
export * from './network';
