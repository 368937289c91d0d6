package dev.ferry.tck;

import java.util.ArrayList;
import java.util.List;

/**
 * The call-counting hook a provider's test wires into its cloud client: call {@link #mutated} after
 * every call that changes the cloud (create, modify, delete, register...), never for reads. The kit
 * uses it to check that a repeated call makes no change, and to crash the provider right after each
 * change in turn. Thread-safe.
 */
public final class CloudCalls {

  private final List<String> mutations = new ArrayList<>();
  private long crashAt;

  /**
   * Records one mutating call that has just been made; throws {@link SimulatedCrash} if the kit
   * armed a crash at this call.
   */
  public synchronized void mutated(String operation) {
    mutations.add(operation);
    if (crashAt > 0 && mutations.size() == crashAt) {
      crashAt = 0;
      throw new SimulatedCrash(operation, mutations.size());
    }
  }

  /** How many mutating calls have been made so far. */
  public synchronized int count() {
    return mutations.size();
  }

  /** The mutating calls made since call number {@code from} (0-based), by operation name. */
  public synchronized List<String> since(int from) {
    return List.copyOf(mutations.subList(from, mutations.size()));
  }

  /** Crashes right after the {@code n}-th mutating call from now (1 is the next one). */
  synchronized void crashAfter(int n) {
    crashAt = mutations.size() + n;
  }

  synchronized void disarm() {
    crashAt = 0;
  }
}
