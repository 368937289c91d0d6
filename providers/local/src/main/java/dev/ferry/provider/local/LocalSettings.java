package dev.ferry.provider.local;

import dev.ferry.spi.ProviderContext;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * The local provider's settings.
 *
 * @param pool IPv4 addresses load balancers get ({@code local.address-pool}, default
 *     127.0.100.0/24)
 * @param ipv6Pool IPv6 addresses ({@code local.ipv6-address-pool}, default {@value
 *     #DEFAULT_IPV6_POOL}, a unique-local block; {@code none} for IPv4 only), each made local on
 *     the loopback when taken (see {@link LoopbackAddresses})
 * @param connectTimeout how long a connection to a backend may take ({@code
 *     local.connect-timeout-ms})
 * @param udpIdleTimeout how long a UDP flow lives without packets ({@code
 *     local.udp-idle-timeout-seconds})
 */
record LocalSettings(
    Cidr pool, Optional<Cidr> ipv6Pool, Duration connectTimeout, Duration udpIdleTimeout) {

  static final String POOL = "local.address-pool";
  static final String IPV6_POOL = "local.ipv6-address-pool";
  static final String CONNECT_TIMEOUT = "local.connect-timeout-ms";
  static final String UDP_IDLE = "local.udp-idle-timeout-seconds";
  static final String DEFAULT_POOL = "127.0.100.0/24";
  static final String DEFAULT_IPV6_POOL = "fdfe:44:100::/120";

  LocalSettings(Cidr pool, Duration connectTimeout, Duration udpIdleTimeout) {
    this(pool, Optional.empty(), connectTimeout, udpIdleTimeout);
  }

  static LocalSettings from(ProviderContext context) {
    List<String> known =
        List.of(POOL, IPV6_POOL, CONNECT_TIMEOUT, UDP_IDLE, ExistingBalancers.SETTING);
    for (String key : context.settings().keySet()) {
      if (!known.contains(key)) {
        throw new IllegalArgumentException(
            "unknown local provider setting '" + key + "'; known: " + String.join(", ", known));
      }
    }
    Cidr pool = Cidr.parse(context.setting(POOL, DEFAULT_POOL));
    if (pool.isIpv6()) {
      throw new IllegalArgumentException(
          "setting " + POOL + "=" + pool + " must be IPv4; IPv6 goes in " + IPV6_POOL);
    }
    String v6 = context.setting(IPV6_POOL, DEFAULT_IPV6_POOL).trim();
    Optional<Cidr> ipv6Pool = v6.equals("none") ? Optional.empty() : Optional.of(Cidr.parse(v6));
    if (ipv6Pool.isPresent() && !ipv6Pool.get().isIpv6()) {
      throw new IllegalArgumentException(
          "setting " + IPV6_POOL + "=" + v6 + " must be an IPv6 block, or none");
    }
    return new LocalSettings(
        pool,
        ipv6Pool,
        Duration.ofMillis(positive(context, CONNECT_TIMEOUT, "2000")),
        Duration.ofSeconds(positive(context, UDP_IDLE, "30")));
  }

  private static long positive(ProviderContext context, String key, String fallback) {
    String text = context.setting(key, fallback);
    try {
      long value = Long.parseLong(text.trim());
      if (value > 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // reported below
    }
    throw new IllegalArgumentException(
        "setting " + key + "='" + text + "' must be a positive whole number");
  }
}
