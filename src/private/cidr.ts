/** A parsed IPv4 CIDR block. */
export interface Ipv4Cidr {
  /** The network address as an unsigned 32-bit number. */
  readonly address: number;
  /** The prefix length, 0 to 32. */
  readonly prefix: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/**
 * Parses an IPv4 CIDR block such as `10.0.0.0/16`.
 *
 * @returns the parsed block, or `undefined` when the text is not a CIDR block
 */
export function parseIpv4Cidr(text: string): Ipv4Cidr | undefined {
  const match = CIDR_PATTERN.exec(text);
  if (!match) {
    return undefined;
  }
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some(octet => octet > 255) || prefix > 32) {
    return undefined;
  }
  const address = octets.reduce((acc, octet) => acc * 256 + octet, 0);
  return { address, prefix };
}

/** The block's address with every host bit cleared, as dotted text with its prefix. */
export function networkAddress(cidr: Ipv4Cidr): string {
  const size = 2 ** (32 - cidr.prefix);
  const network = Math.floor(cidr.address / size) * size;
  return `${formatAddress(network)}/${cidr.prefix}`;
}

/** Whether the block's address has host bits set (`10.0.0.1/16`). */
export function hasHostBits(cidr: Ipv4Cidr): boolean {
  return cidr.address % 2 ** (32 - cidr.prefix) !== 0;
}

function formatAddress(address: number): string {
  return [24, 16, 8, 0].map(shift => Math.floor(address / 2 ** shift) % 256).join('.');
}
