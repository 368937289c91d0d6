package dev.ferry.examples.haproxy;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Collection;
import java.util.Optional;

/**
 * An IPv6 prefix whose addresses IPv6 frontends bind (a /104 to a /126; the first address, the
 * subnet-router anycast one, is skipped). Addresses are written as RFC 5952 says (lower case, the
 * longest run of zero groups as {@code ::}), as the API server's status shows them.
 */
record Ipv6Pool(BigInteger base, int prefix) {

  static Ipv6Pool parse(String cidr) {
    String[] parts = cidr.trim().split("/");
    if (parts.length != 2 || !parts[0].contains(":")) {
      throw new IllegalArgumentException(
          "'" + cidr + "' is not an IPv6 prefix such as fdfe:44:200::/120");
    }
    int prefix = Integer.parseInt(parts[1]);
    if (prefix < 104 || prefix > 126) {
      throw new IllegalArgumentException("an IPv6 pool is a /104 to a /126, not /" + prefix);
    }
    BigInteger mask = BigInteger.ONE.shiftLeft(128 - prefix).subtract(BigInteger.ONE).not();
    return new Ipv6Pool(toInt(parts[0]).and(mask), prefix);
  }

  boolean contains(String ip) {
    if (!ip.contains(":")) {
      return false;
    }
    try {
      return toInt(ip).shiftRight(128 - prefix).equals(base.shiftRight(128 - prefix));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** The first address of the pool not in {@code taken}. */
  Optional<String> firstFree(Collection<String> taken) {
    long size = 1L << (128 - prefix);
    for (long i = 1; i < size; i++) {
      String ip = text(base.add(BigInteger.valueOf(i)));
      if (!taken.contains(ip)) {
        return Optional.of(ip);
      }
    }
    return Optional.empty();
  }

  @Override
  public String toString() {
    return text(base) + "/" + prefix;
  }

  /** {@code ip} as RFC 5952 writes it. */
  static String canonical(String ip) {
    return text(toInt(ip));
  }

  private static BigInteger toInt(String ip) {
    try {
      byte[] bytes = InetAddress.getByName(ip).getAddress();
      if (bytes.length != 16) {
        throw new IllegalArgumentException("'" + ip + "' is not an IPv6 address");
      }
      return new BigInteger(1, bytes);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException("'" + ip + "' is not an IPv6 address", e);
    }
  }

  private static String text(BigInteger value) {
    int[] groups = new int[8];
    for (int i = 0; i < 8; i++) {
      groups[i] = value.shiftRight(16 * (7 - i)).intValue() & 0xffff;
    }
    int bestStart = -1;
    int bestLength = 1; // a single zero group is not shortened (RFC 5952 4.2.2)
    for (int i = 0; i < 8; ) {
      int j = i;
      while (j < 8 && groups[j] == 0) {
        j++;
      }
      if (j - i > bestLength) {
        bestStart = i;
        bestLength = j - i;
      }
      i = j == i ? i + 1 : j;
    }
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < 8; i++) {
      if (i == bestStart) {
        out.append("::");
        i += bestLength - 1;
        continue;
      }
      if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
        out.append(':');
      }
      out.append(Integer.toHexString(groups[i]));
    }
    return out.toString();
  }
}
