export * from './cloudfront-web-acl';
export * from './edge';
