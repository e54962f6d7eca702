export * from './observability';
export * from './observability-options';
