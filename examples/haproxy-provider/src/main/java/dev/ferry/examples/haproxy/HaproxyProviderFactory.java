package dev.ferry.examples.haproxy;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.SpiVersion;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

/**
 * {@code --provider haproxy}: Services' load balancers as frontends of one HAProxy this provider
 * runs, for clusters on bare metal. Settings:
 *
 * <ul>
 *   <li>{@code haproxy.dir}: where the configuration and sockets live (required; kept across
 *       restarts: it is what the provider finds its load balancers by)
 *   <li>{@code haproxy.address-pool}: an IPv4 CIDR whose addresses the frontends bind (required;
 *       the addresses must be configured on this host)
 *   <li>{@code haproxy.ipv6-address-pool}: an IPv6 prefix (a /104 to a /126) whose addresses the
 *       frontends of IPv6 and dual-stack Services bind (optional; without it the provider serves
 *       IPv4 only, and says so in its capabilities). The addresses must be local on this host, e.g.
 *       {@code ip -6 route add local fdfe:44:200::/120 dev lo}
 *   <li>{@code haproxy.binary}: the haproxy executable (default {@code haproxy} on the PATH, then
 *       {@code /usr/sbin/haproxy})
 * </ul>
 */
public final class HaproxyProviderFactory implements LoadBalancerProviderFactory {

  static final String DIR = "haproxy.dir";
  static final String POOL = "haproxy.address-pool";
  static final String BINARY = "haproxy.binary";
  static final String POOL6 = "haproxy.ipv6-address-pool";

  @Override
  public String name() {
    return "haproxy";
  }

  @Override
  public String spiVersion() {
    return SpiVersion.CURRENT;
  }

  @Override
  public LoadBalancerProvider create(ProviderContext context) {
    for (String key : context.settings().keySet()) {
      if (!Set.of(DIR, POOL, POOL6, BINARY).contains(key)) {
        throw new IllegalArgumentException(
            "unknown haproxy provider setting '"
                + key
                + "'; known: "
                + DIR
                + ", "
                + POOL
                + ", "
                + POOL6
                + ", "
                + BINARY);
      }
    }
    String dir = require(context, DIR);
    Ipv4Pool pool;
    try {
      pool = Ipv4Pool.parse(require(context, POOL));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(POOL + ": " + e.getMessage(), e);
    }
    String v6 = context.setting(POOL6, "");
    Optional<Ipv6Pool> pool6;
    try {
      pool6 = v6.isBlank() ? Optional.empty() : Optional.of(Ipv6Pool.parse(v6));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(POOL6 + ": " + e.getMessage(), e);
    }
    Path binary = Path.of(context.setting(BINARY, defaultBinary()));
    return new HaproxyProvider(new Haproxy(binary, Path.of(dir)), pool, pool6, context);
  }

  private static String require(ProviderContext context, String key) {
    String value = context.settings().get(key);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          "the haproxy provider needs --provider-setting " + key + "=...");
    }
    return value;
  }

  private static String defaultBinary() {
    for (String dir : System.getenv().getOrDefault("PATH", "").split(":")) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, "haproxy"))) {
        return Path.of(dir, "haproxy").toString();
      }
    }
    return "/usr/sbin/haproxy";
  }
}
