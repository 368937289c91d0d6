package dev.ferry.examples.haproxy;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.SpiVersion;
import java.nio.file.Files;
import java.nio.file.Path;
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
 *   <li>{@code haproxy.binary}: the haproxy executable (default {@code haproxy} on the PATH, then
 *       {@code /usr/sbin/haproxy})
 * </ul>
 */
public final class HaproxyProviderFactory implements LoadBalancerProviderFactory {

  static final String DIR = "haproxy.dir";
  static final String POOL = "haproxy.address-pool";
  static final String BINARY = "haproxy.binary";

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
      if (!Set.of(DIR, POOL, BINARY).contains(key)) {
        throw new IllegalArgumentException(
            "unknown haproxy provider setting '"
                + key
                + "'; known: "
                + DIR
                + ", "
                + POOL
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
    Path binary = Path.of(context.setting(BINARY, defaultBinary()));
    return new HaproxyProvider(new Haproxy(binary, Path.of(dir)), pool, context);
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
