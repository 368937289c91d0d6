package dev.ferry.examples.haproxy;

import java.util.Collection;
import java.util.Optional;

/** An IPv4 CIDR whose addresses frontends bind; the network and broadcast addresses are skipped. */
record Ipv4Pool(int base, int prefix) {

  static Ipv4Pool parse(String cidr) {
    String[] parts = cidr.trim().split("/");
    if (parts.length != 2) {
      throw new IllegalArgumentException("'" + cidr + "' is not an IPv4 CIDR such as 10.0.0.0/24");
    }
    int prefix = Integer.parseInt(parts[1]);
    if (prefix < 16 || prefix > 30) {
      throw new IllegalArgumentException("a pool is a /16 to a /30, not /" + prefix);
    }
    int mask = -1 << (32 - prefix);
    return new Ipv4Pool(toInt(parts[0]) & mask, prefix);
  }

  boolean contains(String ip) {
    try {
      int mask = -1 << (32 - prefix);
      return (toInt(ip) & mask) == base;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The first address of the pool not in {@code taken}. */
  Optional<String> firstFree(Collection<String> taken) {
    int size = 1 << (32 - prefix);
    for (int i = 1; i < size - 1; i++) {
      String ip = toString(base + i);
      if (!taken.contains(ip)) {
        return Optional.of(ip);
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return toString(base) + "/" + prefix;
  }

  private static int toInt(String ip) {
    String[] octets = ip.split("\\.");
    if (octets.length != 4) {
      throw new IllegalArgumentException("'" + ip + "' is not an IPv4 address");
    }
    int value = 0;
    for (String o : octets) {
      int octet = Integer.parseInt(o);
      if (octet < 0 || octet > 255) {
        throw new IllegalArgumentException("'" + ip + "' is not an IPv4 address");
      }
      value = value << 8 | octet;
    }
    return value;
  }

  private static String toString(int ip) {
    return (ip >>> 24) + "." + (ip >>> 16 & 255) + "." + (ip >>> 8 & 255) + "." + (ip & 255);
  }
}
