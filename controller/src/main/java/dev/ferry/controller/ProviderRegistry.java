package dev.ferry.controller;

import dev.ferry.spi.LoadBalancerProviderFactory;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.TreeMap;

/** The providers on the class path, found with {@link ServiceLoader}, by name. */
public final class ProviderRegistry {

  private final Map<String, LoadBalancerProviderFactory> factories;

  private ProviderRegistry(Map<String, LoadBalancerProviderFactory> factories) {
    this.factories = factories;
  }

  /** Loads every factory; two with one name fail with both classes named. */
  public static ProviderRegistry load(ClassLoader loader) {
    Map<String, LoadBalancerProviderFactory> found = new TreeMap<>();
    for (LoadBalancerProviderFactory f :
        ServiceLoader.load(LoadBalancerProviderFactory.class, loader)) {
      LoadBalancerProviderFactory clash = found.putIfAbsent(f.name(), f);
      if (clash != null) {
        throw new IllegalStateException(
            "two providers are named '"
                + f.name()
                + "': "
                + clash.getClass().getName()
                + " and "
                + f.getClass().getName());
      }
    }
    return new ProviderRegistry(found);
  }

  public List<String> names() {
    return List.copyOf(factories.keySet());
  }

  /** The factory called {@code name}; an unknown name fails with the names found. */
  public LoadBalancerProviderFactory get(String name) {
    LoadBalancerProviderFactory f = factories.get(name);
    if (f == null) {
      throw new IllegalArgumentException(
          "unknown provider '"
              + name
              + "'; providers found: "
              + (factories.isEmpty() ? "none" : String.join(", ", names())));
    }
    return f;
  }
}
