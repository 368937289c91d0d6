package dev.ferry.spi;

import java.util.Map;
import java.util.Objects;

/**
 * What a provider is given at creation.
 *
 * @param clusterName the cluster this controller serves; part of every ownership tag
 * @param settings provider settings from {@code --provider-setting key=value}, unmodifiable
 */
public record ProviderContext(String clusterName, Map<String, String> settings) {

  public ProviderContext {
    Names.requireNonBlank(clusterName, "clusterName");
    settings = Map.copyOf(Objects.requireNonNull(settings, "settings"));
  }

  /** The setting's value, or {@code fallback} when it is not given. */
  public String setting(String key, String fallback) {
    return settings.getOrDefault(key, fallback);
  }
}
