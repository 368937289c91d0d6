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
    LocalCloud cloud = LocalCloud.shared(settings.pool(), settings.ipv6Pool());
    cloud.existing(
        ExistingBalancers.parse(context.setting(ExistingBalancers.SETTING, "")), settings);
    return new LocalProvider(cloud, settings, context.events());
  }
}
