import * as path from 'path';

/** The library's own folder (`lib` in the package, `src` from the sources). */
const LIBRARY = path.resolve(__dirname, '..');

/**
 * A mistake in the props, found at construction: the message names the property,
 * the value and the fix. It reads like aws-cdk-lib's own validation errors
 * (`«ValidationError» …`), and its stack keeps only the frames of the user's code,
 * where the mistake is, not the library's.
 */
export class ConfigurationError extends Error {
  constructor(message: string) {
    super(message);
    Object.setPrototypeOf(this, ConfigurationError.prototype);
    this.name = 'ValidationError';
    const frames = (new Error().stack ?? '').split('\n').slice(1);
    const users = frames.filter(frame => !frame.includes(LIBRARY) && !/[\\/]node_modules[\\/]|\(node:|at node:/.test(frame));
    // Node keeps ten frames: from deep inside the library none may be the user's.
    this.stack = [`«ValidationError» ${message}`, ...(users.length > 0 ? users : frames)].join('\n');
  }

  /**
   * The same mistake seen from a construct that passed `options` on as `prefix`:
   * each property of `options` the message names gets the prefix, so that
   * `nodes.maxSize` reads `cluster.nodes.maxSize` from the platform's props.
   */
  public under(prefix: string, names: string[]): ConfigurationError {
    const known = new Set(names);
    return new ConfigurationError(this.message.replace(/`([A-Za-z][A-Za-z0-9]*)(?=[.`[])/g,
      (whole, name: string) => known.has(name) ? `\`${prefix}.${name}` : whole));
  }
}

/**
 * Runs `make`, and names the property path from the caller's props in any
 * `ConfigurationError` it throws (see `ConfigurationError.under`). With `name`,
 * the message starts with the element of a list that it concerns, by index and
 * by name: `` `services[4]` ('feed-service'): ``.
 */
export function withPropertyPrefix<T>(prefix: string, options: object | undefined, make: () => T, name?: string): T {
  try {
    return make();
  } catch (error) {
    if (error instanceof ConfigurationError) {
      const under = error.under(prefix, Object.keys(options ?? {}));
      throw name === undefined ? under : new ConfigurationError(`\`${prefix}\` ('${name}'): ${under.message}`);
    }
    throw error;
  }
}
