package dev.ferry.spi;

/** An IP family a load balancer's address can be in, as in a Service's {@code spec.ipFamilies}. */
public enum IpFamily {
  IPv4,
  IPv6;

  /**
   * The family of an IP literal or CIDR ({@code 10.0.0.0/8}, {@code 2001:db8::/32}): IPv6 when it
   * has a colon. Since 1.3.
   */
  public static IpFamily of(String addressOrCidr) {
    return addressOrCidr.indexOf(':') >= 0 ? IPv6 : IPv4;
  }

  /** The range of every address of this family: {@code 0.0.0.0/0} or {@code ::/0}. Since 1.3. */
  public String everyAddress() {
    return this == IPv4 ? "0.0.0.0/0" : "::/0";
  }
}
