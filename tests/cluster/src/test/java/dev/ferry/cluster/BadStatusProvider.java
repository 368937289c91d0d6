package dev.ferry.cluster;

import dev.ferry.spi.Backend;
import dev.ferry.spi.Capabilities;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.LoadBalancerStatus;
import dev.ferry.spi.ProviderContext;
import java.util.List;
import java.util.Optional;

/**
 * A provider whose status the API server refuses (an "IP" that is none), as a buggy plugin might
 * return: the controller must report it, not loop on it.
 */
public final class BadStatusProvider implements LoadBalancerProviderFactory, LoadBalancerProvider {

  @Override
  public String name() {
    return "bad-status";
  }

  @Override
  public String spiVersion() {
    return dev.ferry.spi.SpiVersion.CURRENT;
  }

  @Override
  public LoadBalancerProvider create(ProviderContext context) {
    return new BadStatusProvider();
  }

  @Override
  public Capabilities capabilities() {
    return Capabilities.builder().maxListeners(10).sourceRanges(true).build();
  }

  @Override
  public Optional<LoadBalancerStatus> find(LoadBalancerRef ref) {
    return Optional.of(status());
  }

  @Override
  public LoadBalancerStatus ensure(LoadBalancerPlan plan) {
    return status();
  }

  private static LoadBalancerStatus status() {
    return LoadBalancerStatus.ofIp("not-an-ip", LoadBalancerStatus.IpMode.VIP);
  }

  @Override
  public void updateBackends(LoadBalancerRef ref, List<Backend> backends) {}

  @Override
  public void ensureDeleted(LoadBalancerRef ref) {}

  @Override
  public List<LoadBalancerRef> listOwned(String clusterName) {
    return List.of();
  }
}
