export * from './broker-options';
export * from './cache';
export * from './data-store-props';
export * from './database';
export * from './database-options';
export * from './message-broker';
export * from './messaging';
export * from './storage';
