export * from './cache';
export * from './database';
export * from './message-broker';
export * from './messaging';
export * from './storage';
