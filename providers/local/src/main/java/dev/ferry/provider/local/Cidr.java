package dev.ferry.provider.local;

import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressNetwork.IPAddressGenerator;
import inet.ipaddr.IPAddressString;
import java.math.BigInteger;
import java.net.InetAddress;

/**
 * An address block such as {@code 127.0.100.0/24} (host bits cleared); matches addresses of its own
 * family. Parsing and arithmetic are the ipaddress library's, as in the planner.
 */
record Cidr(IPAddress block) {

  private static final IPAddressGenerator ADDRESSES = new IPAddressGenerator();

  static Cidr parse(String text) {
    IPAddress address = new IPAddressString(text.trim()).getAddress();
    if (address == null) {
      throw new IllegalArgumentException("'" + text + "' is not a CIDR");
    }
    if (!address.isPrefixed()) {
      address = address.setPrefixLength(address.getBitCount(), false);
    }
    return new Cidr(address.toPrefixBlock());
  }

  boolean contains(InetAddress address) {
    IPAddress other = ADDRESSES.from(address);
    return other.getIPVersion() == block.getIPVersion() && block.contains(other);
  }

  boolean isIpv6() {
    return block.isIPv6();
  }

  /** The number of addresses in the block, capped at {@code Integer.MAX_VALUE}. */
  long size() {
    return block.getCount().min(BigInteger.valueOf(Integer.MAX_VALUE)).longValue();
  }

  /** The {@code i}-th address of the block. */
  InetAddress address(long i) {
    return block.getLower().withoutPrefixLength().increment(i).toInetAddress();
  }

  /** An address as Kubernetes writes it (RFC 5952 for IPv6: {@code fd00::4a}, not 0:0:0...). */
  static String text(InetAddress address) {
    return ADDRESSES.from(address).toCanonicalString();
  }

  @Override
  public String toString() {
    return block.toCanonicalString();
  }
}
