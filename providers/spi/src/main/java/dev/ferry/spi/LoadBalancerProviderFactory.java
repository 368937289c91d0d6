package dev.ferry.spi;

/**
 * Creates a provider. Implementations are found with {@link java.util.ServiceLoader}: list the
 * class name in {@code META-INF/services/dev.ferry.spi.LoadBalancerProviderFactory}.
 */
public interface LoadBalancerProviderFactory {

  /** The name operators select the provider by, e.g. {@code aws}; unique across the class path. */
  String name();

  /**
   * Makes a provider for one cluster. Invalid settings fail here with an {@link
   * IllegalArgumentException} naming the setting, so a misconfigured controller stops at start-up.
   */
  LoadBalancerProvider create(ProviderContext context);
}
