export * from './edge';
