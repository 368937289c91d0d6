package dev.ferry.spi;

/**
 * Creates a provider. Implementations are found with {@link java.util.ServiceLoader}: list the
 * class name in {@code META-INF/services/dev.ferry.spi.LoadBalancerProviderFactory}.
 */
public interface LoadBalancerProviderFactory {

  /** The name operators select the provider by, e.g. {@code aws}; unique across the class path. */
  String name();

  /**
   * The contract version this provider was compiled against: implement it as {@code return
   * SpiVersion.CURRENT;} (the constant is compiled into your class). A provider without this method
   * was built for a contract before 1.0 and is refused at start-up.
   */
  String spiVersion();

  /**
   * Makes a provider for one cluster. Invalid settings fail here with an {@link
   * IllegalArgumentException} naming the setting, so a misconfigured controller stops at start-up.
   */
  LoadBalancerProvider create(ProviderContext context);
}
