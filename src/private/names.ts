/** `ecr.api` or `user-service` becomes `EcrApi` or `UserService`: a stable construct ID. */
export function pascalCase(name: string): string {
  return name.split(/[^A-Za-z0-9]+/).filter(Boolean).map(part => part[0].toUpperCase() + part.slice(1)).join('');
}
