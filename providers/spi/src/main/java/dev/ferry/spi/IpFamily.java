package dev.ferry.spi;

/** An IP family a load balancer's address can be in, as in a Service's {@code spec.ipFamilies}. */
public enum IpFamily {
  IPv4,
  IPv6
}
