export * from './cache';
export * from './database';
export * from './storage';
