package dev.ferry.tck;

import dev.ferry.spi.LoadBalancerRef;
import dev.ferry.spi.ProviderEvents;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A {@link ProviderEvents} for a provider's tests: keeps each Warning and Normal event as {@code
 * reason: message}, in order, so a test can assert what the Service's owner would read.
 */
public final class RecordedEvents implements ProviderEvents {

  private final List<String> warnings = new CopyOnWriteArrayList<>();
  private final List<String> normal = new CopyOnWriteArrayList<>();

  @Override
  public void warning(LoadBalancerRef ref, String reason, String message) {
    warnings.add(reason + ": " + message);
  }

  @Override
  public void normal(LoadBalancerRef ref, String reason, String message) {
    normal.add(reason + ": " + message);
  }

  /** The Warning events so far, as {@code reason: message}. */
  public List<String> warnings() {
    return List.copyOf(warnings);
  }

  /** The Normal events so far, as {@code reason: message}. */
  public List<String> normal() {
    return List.copyOf(normal);
  }
}
