export * from './database';
export * from './storage';
