package dev.ferry.provider.aws;

import dev.ferry.spi.ProviderException;
import java.util.HashMap;
import java.util.Map;

/**
 * The reads one batched check ({@code inStep}) shares between the load balancers it checks: what a
 * describe of up to 20 load balancers answered, and reads every Service repeats (subnets, the VPC,
 * the node security group). It lives for one check call and is then dropped: nothing is remembered
 * between calls.
 */
final class ReadRound {

  interface Read<T> {
    T get() throws ProviderException;
  }

  private final Map<String, Object> answers = new HashMap<>();

  /** The answer for {@code key}, read once. */
  @SuppressWarnings("unchecked")
  <T> T read(String key, Read<T> read) throws ProviderException {
    if (answers.containsKey(key)) {
      return (T) answers.get(key);
    }
    T value = read.get();
    answers.put(key, value);
    return value;
  }

  void put(String key, Object value) {
    answers.put(key, value);
  }

  boolean has(String key) {
    return answers.containsKey(key);
  }

  @SuppressWarnings("unchecked")
  <T> T get(String key) {
    return (T) answers.get(key);
  }

  /** Thrown instead of a mutating call during a check: the load balancer is not in step. */
  static final class WouldChange extends RuntimeException {
    WouldChange(String operation) {
      super(operation, null, false, false);
    }
  }
}
