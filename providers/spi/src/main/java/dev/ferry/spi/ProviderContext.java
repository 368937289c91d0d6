package dev.ferry.spi;

import java.util.Map;
import java.util.Objects;

/**
 * What a provider is given at creation.
 *
 * @param clusterName the cluster this controller serves; part of every ownership tag
 * @param settings provider settings from {@code --provider-setting key=value}, unmodifiable
 * @param events where to report warnings about a Service's load balancer
 */
public record ProviderContext(
    String clusterName, Map<String, String> settings, ProviderEvents events) {

  public ProviderContext {
    Names.requireNonBlank(clusterName, "clusterName");
    settings = Map.copyOf(Objects.requireNonNull(settings, "settings"));
    Objects.requireNonNull(events, "events");
  }

  /** A context whose warnings go nowhere. */
  public ProviderContext(String clusterName, Map<String, String> settings) {
    this(clusterName, settings, ProviderEvents.NONE);
  }

  /** The setting's value, or {@code fallback} when it is not given. */
  public String setting(String key, String fallback) {
    return settings.getOrDefault(key, fallback);
  }
}
