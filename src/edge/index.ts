export * from './cloudfront-web-acl';
export * from './edge';
export * from './route';
export * from './edge-options';
