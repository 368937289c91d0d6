package dev.ferry.provider.local;

import dev.ferry.spi.LoadBalancerProvider;
import dev.ferry.spi.LoadBalancerProviderFactory;
import dev.ferry.spi.ProviderContext;

/** {@code --provider local}: load balancers inside the controller process. */
public final class LocalProviderFactory implements LoadBalancerProviderFactory {

  @Override
  public String name() {
    return "local";
  }

  @Override
  public String spiVersion() {
    return dev.ferry.spi.SpiVersion.CURRENT;
  }

  @Override
  public LoadBalancerProvider create(ProviderContext context) {
    LocalSettings settings = LocalSettings.from(context);
    return new LocalProvider(
        LocalCloud.shared(settings.pool(), settings.ipv6Pool()), settings, context.events());
  }
}
