export * from './profile';
export * from './compliance-checks';
