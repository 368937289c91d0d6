package dev.ferry.sim;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cloud's API budget: for each kind of call, the token buckets it draws from, shaped like a
 * real cloud's published limits (see ../shared/REFERENCE.md). One simulated call stands for one
 * cloud API call of its kind.
 *
 * <ul>
 *   <li>{@code aws}: ELBv2. Every call shares a bucket of 40, refilled 10/s; creating and deleting
 *       draw also from "other mutating" (20, 3/s), backend changes from Register/DeregisterTargets
 *       (20, 4/s).
 *   <li>{@code gce}: Compute's per-minute quotas, as buckets of a minute's worth: reads 1,200/min,
 *       mutations 1,200/min.
 *   <li>{@code arm}: Azure Resource Manager per principal and region: writes 200, 10/s; reads 250,
 *       25/s.
 *   <li>{@code none}: no limit.
 * </ul>
 */
final class Budget {

  enum Kind {
    CREATE,
    BACKENDS,
    DELETE,
    READ
  }

  private final String shape;
  private final Map<Kind, List<TokenBucket>> buckets;

  private Budget(String shape, Map<Kind, List<TokenBucket>> buckets) {
    this.shape = shape;
    this.buckets = buckets;
  }

  String shape() {
    return shape;
  }

  List<TokenBucket> of(Kind kind) {
    return buckets.getOrDefault(kind, List.of());
  }

  /** A cloud with one bucket for reads and one for every change. */
  private static Budget readsAndWrites(String shape, TokenBucket reads, TokenBucket writes) {
    return new Budget(
        shape,
        Map.of(
            Kind.CREATE, List.of(writes),
            Kind.DELETE, List.of(writes),
            Kind.BACKENDS, List.of(writes),
            Kind.READ, List.of(reads)));
  }

  /** Each bucket's shape and the kinds of call that draw from it, as JSON. */
  String json() {
    Map<TokenBucket, List<String>> kinds = new java.util.LinkedHashMap<>();
    for (Kind k : Kind.values()) {
      for (TokenBucket b : of(k)) {
        kinds
            .computeIfAbsent(b, x -> new java.util.ArrayList<>())
            .add(k.name().toLowerCase(Locale.ROOT));
      }
    }
    return kinds.entrySet().stream()
        .map(
            e ->
                "{\"name\":\"%s\",\"capacity\":%s,\"perSecond\":%s,\"kinds\":[%s]}"
                    .formatted(
                        e.getKey().name(),
                        e.getKey().capacity(),
                        e.getKey().ratePerSecond(),
                        e.getValue().stream()
                            .map(x -> "\"" + x + "\"")
                            .collect(java.util.stream.Collectors.joining(","))))
        .collect(java.util.stream.Collectors.joining(",", "[", "]"));
  }

  /** A fresh set of buckets (full) of {@code shape}: aws, gce, arm or none. */
  static Budget of(String shape) {
    return switch (shape.toLowerCase(Locale.ROOT)) {
      case "none", "" -> new Budget("none", Map.of());
      case "aws" -> {
        TokenBucket all = new TokenBucket("elbv2", 40, 10);
        TokenBucket mutating = new TokenBucket("elbv2-mutating", 20, 3);
        TokenBucket targets = new TokenBucket("elbv2-targets", 20, 4);
        yield new Budget(
            "aws",
            Map.of(
                Kind.CREATE, List.of(all, mutating),
                Kind.DELETE, List.of(all, mutating),
                Kind.BACKENDS, List.of(all, targets),
                Kind.READ, List.of(all)));
      }
      case "gce" ->
          readsAndWrites(
              "gce",
              new TokenBucket("compute-reads", 1200, 20),
              new TokenBucket("compute-mutations", 1200, 20));
      case "arm" ->
          readsAndWrites(
              "arm", new TokenBucket("arm-reads", 250, 25), new TokenBucket("arm-writes", 200, 10));
      default ->
          throw new IllegalArgumentException(
              "sim.buckets '" + shape + "' is not one of aws, gce, arm, none");
    };
  }
}
