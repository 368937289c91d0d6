package dev.ferry.provider.local;

import dev.ferry.spi.ProviderContext;
import java.time.Duration;

/**
 * The local provider's settings.
 *
 * @param pool addresses load balancers get ({@code local.address-pool}, default 127.0.100.0/24)
 * @param connectTimeout how long a connection to a backend may take ({@code
 *     local.connect-timeout-ms})
 * @param udpIdleTimeout how long a UDP flow lives without packets ({@code
 *     local.udp-idle-timeout-seconds})
 */
record LocalSettings(Cidr pool, Duration connectTimeout, Duration udpIdleTimeout) {

  static final String POOL = "local.address-pool";
  static final String CONNECT_TIMEOUT = "local.connect-timeout-ms";
  static final String UDP_IDLE = "local.udp-idle-timeout-seconds";
  static final String DEFAULT_POOL = "127.0.100.0/24";

  static LocalSettings from(ProviderContext context) {
    for (String key : context.settings().keySet()) {
      if (!key.equals(POOL) && !key.equals(CONNECT_TIMEOUT) && !key.equals(UDP_IDLE)) {
        throw new IllegalArgumentException(
            "unknown local provider setting '"
                + key
                + "'; known: "
                + POOL
                + ", "
                + CONNECT_TIMEOUT
                + ", "
                + UDP_IDLE);
      }
    }
    return new LocalSettings(
        Cidr.parse(context.setting(POOL, DEFAULT_POOL)),
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
