package dev.ferry.controller;

import inet.ipaddr.IPAddress;
import inet.ipaddr.IPAddressString;
import inet.ipaddr.IPAddressStringParameters;

/** Addresses and CIDRs as Kubernetes writes them, parsed strictly (nothing is resolved). */
final class IpLiterals {

  private IpLiterals() {}

  /** Addresses as Kubernetes writes them: no wildcards, masks, ranges or inet_aton shorthand. */
  private static final IPAddressStringParameters STRICT =
      new IPAddressStringParameters.Builder()
          .allowEmpty(false)
          .allowAll(false)
          .allowMask(false)
          .allowSingleSegment(false)
          .allowPrefixOnly(false)
          .allowWildcardedSeparator(false)
          .allow_inet_aton(false)
          .toParams();

  /**
   * The CIDR {@code text} names, normalised (host bits cleared, canonical form: {@code 10.0.0.5/8}
   * is {@code 10.0.0.0/8}, which is what clouds accept), or null when it is not one.
   */
  static String cidr(String text) {
    IPAddressString parsed = new IPAddressString(text, STRICT);
    IPAddress address = parsed.getAddress();
    IPAddress host = parsed.getHostAddress();
    if (address == null || !address.isPrefixed() || host == null || host.isMultiple()) {
      return null; // not an address with a prefix, or a wildcard or range
    }
    return address.toPrefixBlock().toCanonicalString();
  }

  /** True when {@code text} is an IPv4 or IPv6 address (never a host name: nothing is resolved). */
  static boolean isIpLiteral(String text) {
    IPAddress address = new IPAddressString(text, STRICT).getAddress();
    return address != null && !address.isPrefixed() && !address.isMultiple();
  }

  /**
   * {@code text} as Kubernetes writes an address (RFC 5952 for IPv6, which the API server's strict
   * validation asks for), or as it is when it is no address.
   */
  static String canonical(String text) {
    IPAddress address = new IPAddressString(text, STRICT).getAddress();
    return address == null || address.isPrefixed() ? text : address.toCanonicalString();
  }
}
