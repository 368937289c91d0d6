package dev.ferry.tck;

import dev.ferry.spi.Backend;
import dev.ferry.spi.LoadBalancerPlan;
import dev.ferry.spi.LoadBalancerProvider;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.IntFunction;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Measures what a node joining costs a provider as the number of Services grows: with 1, 10, 100
 * Services ensured, a node is added and every Service's backends are updated (as the controller
 * does), and the cloud requests of that change are counted. A provider whose backends are shared by
 * the cluster's Services should show the same mutating requests on every row.
 */
public final class NodeChurn {

  /**
   * One row of the measurement.
   *
   * @param mutating the mutating requests the node change made, by name
   * @param requests every request the node change made
   */
  public record Row(int services, Map<String, Long> mutating, long requests) {
    @Override
    public String toString() {
      return String.format("%4d Services: %s / %d requests", services, mutating, requests);
    }
  }

  private NodeChurn() {}

  /**
   * @param plan the plan of Service {@code i} for the given nodes
   * @param nodes the cluster's nodes; each row adds one from {@code newNode}
   * @param requests the cloud's request counts so far, by name (e.g. from a fake)
   * @param isMutating which request names change something
   */
  public static List<Row> measure(
      LoadBalancerProvider provider,
      IntFunction<LoadBalancerPlan> plan,
      List<Backend> nodes,
      Supplier<Backend> newNode,
      Supplier<Map<String, Long>> requests,
      Predicate<String> isMutating,
      int... serviceCounts)
      throws Exception {
    List<Backend> current = new ArrayList<>(nodes);
    List<Row> rows = new ArrayList<>();
    int made = 0;
    for (int services : serviceCounts) {
      for (; made < services; made++) {
        provider.ensure(plan.apply(made).withBackends(List.copyOf(current)));
      }
      current.add(newNode.get());
      Map<String, Long> before = requests.get();
      for (int i = 0; i < services; i++) {
        provider.updateBackends(plan.apply(i).ref(), List.copyOf(current));
      }
      Map<String, Long> after = requests.get();
      rows.add(new Row(services, delta(before, after, isMutating), total(before, after)));
    }
    return rows;
  }

  /** How many requests were made from {@code before} to {@code after}, of every name. */
  public static long total(Map<String, Long> before, Map<String, Long> after) {
    return delta(before, after, k -> true).values().stream().mapToLong(Long::longValue).sum();
  }

  /** The counts that grew from {@code before} to {@code after}, of the names {@code keep} takes. */
  public static Map<String, Long> delta(
      Map<String, Long> before, Map<String, Long> after, Predicate<String> keep) {
    Map<String, Long> out = new TreeMap<>();
    after.forEach(
        (k, v) -> {
          long n = v - before.getOrDefault(k, 0L);
          if (n > 0 && keep.test(k)) {
            out.put(k, n);
          }
        });
    return out;
  }
}
