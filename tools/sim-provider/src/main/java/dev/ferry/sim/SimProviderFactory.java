package dev.ferry.sim;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;
import dev.ferry.spi.SpiVersion;
import java.time.Duration;

/**
 * {@code --provider sim}: the scale benchmark's simulated cloud. Settings: {@code sim.latency} (per
 * call, e.g. {@code 50ms}; default 0), {@code sim.buckets} ({@code aws}, {@code gce}, {@code arm}
 * or {@code none}, the default), {@code sim.pace} (the provider waits for its own copy of the
 * buckets before each call; default true), {@code sim.stats-port} (loopback port of {@code /stats};
 * default 0, any free port; -1 none).
 */
public final class SimProviderFactory implements LoadBalancerProviderFactory {

  @Override
  public String name() {
    return "sim";
  }

  @Override
  public String spiVersion() {
    return SpiVersion.CURRENT;
  }

  @Override
  public LoadBalancerProvider create(ProviderContext context) {
    Duration latency = latency(context.setting("sim.latency", "0ms"));
    String shape = context.setting("sim.buckets", "none");
    boolean pace = Boolean.parseBoolean(context.setting("sim.pace", "true"));
    int port;
    try {
      port = Integer.parseInt(context.setting("sim.stats-port", "0"));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("sim.stats-port must be a port number", e);
    }
    SimCloud cloud = new SimCloud(latency, Budget.of(shape), port);
    return new SimProvider(cloud, pace ? Budget.of(shape) : null, context.metrics());
  }

  static Duration latency(String text) {
    String t = text.trim();
    try {
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofSeconds(Long.parseLong(t.substring(0, t.length() - 1)));
      }
      return Duration.ofMillis(Long.parseLong(t));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("sim.latency '" + text + "' is not a duration like 50ms");
    }
  }
}
